// Who makes a gRPC call, and whether it may. With a credentials file, every call carries a bearer
// token of one of its keys in the `authorization` metadata ("Bearer <id>:<secret>"), or comes
// with a verified client certificate (--tls-client-ca) whose Common Name a key's
// `tls_common_name` names: neither, or an unknown key, is UNAUTHENTICATED; a key without the
// permission, or not allowed the stream the request names, is PERMISSION_DENIED. The same keys
// and rules as the Kinesis port (server/auth/credentials.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/server_context.h>

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

// The key a call stands for. A bearer token, when the call carries one, decides alone (a
// cluster node forwards its callers' tokens over its own certificate); otherwise the client
// certificate TLS verified, by its subject Common Name. UnrecognizedClientException, saying
// why, when neither names a key.
StatusOr<std::shared_ptr<const auth::AccessKey>> CallerOf(const auth::KeySet& keys,
                                                          const grpc::ServerContextBase& context);

// The gate of a cluster's internal services (replication): with a credentials file only a key
// with the `cluster` operation may call them; UNAUTHENTICATED without a key, PERMISSION_DENIED
// for any other key. Without one (null) every call may go on, as before.
std::function<grpc::Status(grpc::ServerContextBase&)> InternalCallGate(
    const auth::Credentials* credentials);

}  // namespace riffle::grpc_api
