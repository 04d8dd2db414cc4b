#include "server/api/grpc/call_logger.h"

#include <chrono>
#include <string>
#include <string_view>

#include <grpcpp/server_context.h>

#include "server/auth/credentials.h"

namespace riffle::grpc_api {
namespace {

std::string_view CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

// The codes that blame the server, as HTTP's 500 does (UNAVAILABLE, HTTP's 503, asks for a
// retry instead).
bool IsServerError(grpc::StatusCode code) {
  return code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::DATA_LOSS;
}

// The access key id of an `authorization: Bearer <id>:<secret>` header; never the secret.
std::string KeyIdOf(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return {};
  }
  const std::optional<auth::BearerToken> bearer =
      auth::ParseBearer(std::string_view(it->second.data(), it->second.size()));
  if (!bearer) {
    return {};
  }
  // Without its colon the token may be all secret: it is not logged.
  return bearer->well_formed ? std::string(bearer->key_id) : std::string("(malformed)");
}

class CallLogger final : public grpc::experimental::Interceptor {
 public:
  CallLogger(const call_log::CallLog& log, grpc::experimental::ServerRpcInfo* info)
      : log_(log),
        info_(info),
        streaming_(info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using Point = grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(Point::POST_RECV_INITIAL_METADATA)) {
      key_id_ = KeyIdOf(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(Point::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const std::string peer =
          info_->server_context() != nullptr ? info_->server_context()->peer() : "unknown";
      log_.Record(
          call_log::CallRecord{.api = "grpc",
                               .operation = info_->method(),
                               .peer = peer,
                               .key_id = key_id_,
                               .outcome = CodeName(status.error_code()),
                               .message = status.error_message(),
                               .server_error = IsServerError(status.error_code()),
                               .unavailable = status.error_code() == grpc::StatusCode::UNAVAILABLE,
                               .streaming = streaming_,
                               .elapsed = std::chrono::steady_clock::now() - start_});
    }
    methods->Proceed();
  }

 private:
  const call_log::CallLog& log_;
  grpc::experimental::ServerRpcInfo* const info_;
  const bool streaming_;
  const std::chrono::steady_clock::time_point start_;
  std::string key_id_;
};

class CallLoggerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallLoggerFactory(const call_log::CallLog& log) : log_(log) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallLogger(log_, info);
  }

 private:
  const call_log::CallLog& log_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewCallLogger(
    const call_log::CallLog& log) {
  return std::make_unique<CallLoggerFactory>(log);
}

}  // namespace riffle::grpc_api
