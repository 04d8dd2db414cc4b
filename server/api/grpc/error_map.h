// The one place gRPC status codes are chosen for broker errors. The Kinesis code itself travels
// in the `riffle-error-code` trailer, so a client gets back exactly the code the broker judged.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace grpc {
class ServerContextBase;
}

namespace riffle::grpc_api {

// The trailing metadata key that carries KinesisName(code) on every failed call.
inline constexpr char kErrorCodeTrailer[] = "riffle-error-code";

// What ResourceInUse means for the call that got it: a stream in the wrong state for most
// calls (FAILED_PRECONDITION), a name already taken for CreateStream (ALREADY_EXISTS).
enum class InUseMeans { kWrongState, kNameTaken };

grpc::StatusCode GrpcCodeFor(ErrorCode code, InUseMeans in_use);

// OK for an OK status; otherwise the mapped code with the broker's message, and the Kinesis code
// added to `context`'s trailing metadata.
grpc::Status ToGrpcStatus(const Status& status, grpc::ServerContextBase& context,
                          InUseMeans in_use = InUseMeans::kWrongState);

}  // namespace riffle::grpc_api
