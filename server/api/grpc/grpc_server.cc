#include "server/api/grpc/grpc_server.h"

#include <chrono>
#include <utility>
#include <vector>

#include <grpcpp/impl/service_type.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "server/api/grpc/call_logger.h"
#include "server/api/grpc/riffle_service.h"

namespace riffle::grpc_api {
namespace {

using namespace std::chrono_literals;

// A PutRecords call may carry 10 MiB of data plus keys and framing; gRPC's default is 4 MiB.
constexpr int kMaxReceiveMessageBytes = 16 * 1024 * 1024;
// How long Shutdown() lets in-flight calls finish before cancelling them.
constexpr std::chrono::seconds kShutdownGrace{5};
// What gRPC's own shutdown gets once our calls are done: enough for a call that arrived in the
// meantime, after which idle connections are closed instead of waited for.
constexpr std::chrono::milliseconds kLateCallGrace{250};

std::string ListenAddress(const std::string& host, int port) {
  // An IPv6 literal needs brackets to be told apart from the port.
  if (host.find(':') != std::string::npos && !host.starts_with('[')) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

// How often gRPC looks at the TLS files for a renewed certificate.
constexpr unsigned int kTlsRefreshSeconds = 5;

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const auth::TlsFiles& tls) {
  if (!tls.enabled()) {
    return grpc::InsecureServerCredentials();
  }
  auto files = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file, tls.cert_file, tls.client_ca_file, kTlsRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(files);
  options.watch_identity_key_cert_pairs();
  if (!tls.client_ca_file.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace

StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    broker::Broker& broker, const std::string& host, int port, broker::RequestContext context,
    const Clock* clock, const std::vector<grpc::Service*>& internal_services,
    const auth::Credentials* credentials, const auth::TlsFiles& tls,
    call_log::CallLogOptions call_log) {
  static const SystemClock system_clock;
  std::unique_ptr<GrpcServer> self(new GrpcServer());
  self->service_ = NewRiffleService(broker, std::move(context),
                                    clock != nullptr ? *clock : system_clock, self->stopping_,
                                    credentials, self->wake_subscriptions_);
  const std::string address = ListenAddress(host, port);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, ServerCredentialsFor(tls), &self->port_);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  // gRPC sets SO_REUSEPORT by default, which would let a second daemon share the port and
  // silently take half of the calls instead of failing to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(self->service_.get());
  for (grpc::Service* service : internal_services) {
    builder.RegisterService(service);
  }
  self->call_log_ = std::make_unique<call_log::CallLog>(call_log);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(self->calls_in_flight_.NewCounter());
  interceptors.push_back(NewCallLogger(*self->call_log_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    self->shut_down_ = true;  // nothing to drain
    return Status(ErrorCode::kServiceUnavailable,
                  "gRPC server cannot listen on " + address + " (address in use or not local?)");
  }
  return self;
}

GrpcServer::~GrpcServer() {
  Shutdown();
}

void GrpcServer::Shutdown() {
  // Held through the drain on purpose: a concurrent caller returns only once the server stopped.
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_) {
    return;
  }
  shut_down_ = true;
  stopping_.store(true);
  wake_subscriptions_();
  const bool drained =
      calls_in_flight_.WaitForNone(std::chrono::steady_clock::now() + kShutdownGrace);
  server_->Shutdown(std::chrono::system_clock::now() + (drained ? kLateCallGrace : 0ms));
  server_->Wait();
}

}  // namespace riffle::grpc_api
