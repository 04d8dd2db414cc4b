#include "server/api/grpc/error_map.h"

#include <string>

#include <grpcpp/server_context.h>

namespace riffle::grpc_api {

// No default: -Wswitch names any code added later and left unmapped.
grpc::StatusCode GrpcCodeFor(ErrorCode code, InUseMeans in_use) {
  switch (code) {
    case ErrorCode::kOk:
      return grpc::StatusCode::OK;
    case ErrorCode::kResourceNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::kResourceInUse:
      return in_use == InUseMeans::kNameTaken ? grpc::StatusCode::ALREADY_EXISTS
                                              : grpc::StatusCode::FAILED_PRECONDITION;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kValidation:
    case ErrorCode::kSerialization:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::kExpiredIterator:
    case ErrorCode::kExpiredNextToken:
      return grpc::StatusCode::OUT_OF_RANGE;
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kProvisionedThroughputExceeded:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorCode::kAccessDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case ErrorCode::kMissingAuthenticationToken:
    case ErrorCode::kIncompleteSignature:
    case ErrorCode::kUnrecognizedClient:
    case ErrorCode::kInvalidSignature:
      return grpc::StatusCode::UNAUTHENTICATED;
    case ErrorCode::kUnknownOperation:
      return grpc::StatusCode::UNIMPLEMENTED;
    case ErrorCode::kServiceUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case ErrorCode::kInternalFailure:
      break;
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status ToGrpcStatus(const Status& status, grpc::ServerContextBase& context,
                          InUseMeans in_use) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  context.AddTrailingMetadata(kErrorCodeTrailer, std::string(KinesisName(status.code())));
  return grpc::Status(GrpcCodeFor(status.code(), in_use), status.message());
}

}  // namespace riffle::grpc_api
