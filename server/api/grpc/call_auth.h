// Who makes a gRPC call, and whether it may. With a credentials file, every call carries a bearer
// token of one of its keys in the `authorization` metadata ("Bearer <id>:<secret>"): none, or an
// unknown key, is UNAUTHENTICATED; a key without the permission, or not allowed the stream the
// request names, is PERMISSION_DENIED. The same keys and rules as the Kinesis port
// (server/auth/credentials.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/auth/credentials.h"

namespace google::protobuf {
class Message;
}

namespace riffle::grpc_api {

// The stream a request message names, whatever its type: a `stream` StreamRef (name or ARN),
// `stream_name`, or the stream of `stream_arn` / `consumer_arn` / a `consumer` ConsumerRef.
// Empty for requests that name none (ListStreams, GetRecords, whose iterator the broker checks).
std::string StreamNamed(const google::protobuf::Message& request);

}  // namespace riffle::grpc_api
