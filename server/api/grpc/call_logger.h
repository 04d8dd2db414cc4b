// Logs each gRPC call when it ends (call_log.h): its method, the client, the key of its bearer
// token, the status answered and how long it took. A server interceptor, so every service of the
// port is covered in one place.
#pragma once

#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "server/api/call_log/call_log.h"

namespace riffle::grpc_api {

// `log` must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewCallLogger(
    const call_log::CallLog& log);

}  // namespace riffle::grpc_api
