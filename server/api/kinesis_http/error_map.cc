#include "server/api/kinesis_http/error_map.h"

namespace riffle::kinesis_http {

// No default: -Wswitch names any code added later and left unmapped.
int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kServiceUnavailable:
      return 503;
    case ErrorCode::kResourceNotFound:
    case ErrorCode::kResourceInUse:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kValidation:
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kProvisionedThroughputExceeded:
    case ErrorCode::kExpiredIterator:
    case ErrorCode::kExpiredNextToken:
    case ErrorCode::kAccessDenied:
    case ErrorCode::kSerialization:
    case ErrorCode::kUnknownOperation:
    case ErrorCode::kMissingAuthenticationToken:
    case ErrorCode::kIncompleteSignature:
    case ErrorCode::kUnrecognizedClient:
    case ErrorCode::kInvalidSignature:
      return 400;
    case ErrorCode::kInternalFailure:
    case ErrorCode::kOk:
      break;
  }
  return 500;
}

}  // namespace riffle::kinesis_http
