#include "server/metrics/http_endpoints.h"

#include <CivetServer.h>

#include <stdexcept>
#include <vector>

namespace riffle::metrics {
namespace {

void Respond(mg_connection* conn, int status, const char* reason, const std::string& content_type,
             const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            status, reason, content_type.c_str(), body.size());
  mg_write(conn, body.data(), body.size());
}

class Handler final : public CivetHandler {
 public:
  explicit Handler(std::function<void(mg_connection*)> respond) : respond_(std::move(respond)) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    respond_(conn);
    return true;
  }

 private:
  std::function<void(mg_connection*)> respond_;
};

class HttpEndpointsImpl final : public HttpEndpoints {
 public:
  HttpEndpointsImpl(std::function<std::string()> render, std::function<Status()> ready)
      : metrics_([render = std::move(render)](mg_connection* conn) {
          Respond(conn, 200, "OK", "text/plain; version=0.0.4", render());
        }),
        healthz_([](mg_connection* conn) { Respond(conn, 200, "OK", "text/plain", "ok\n"); }),
        readyz_([ready = std::move(ready)](mg_connection* conn) {
          const Status status = ready();
          if (status.ok()) {
            Respond(conn, 200, "OK", "text/plain", "ready\n");
          } else {
            Respond(conn, 503, "Service Unavailable", "text/plain", status.message() + "\n");
          }
        }) {}

  ~HttpEndpointsImpl() override { server_.reset(); }  // no handler runs after this

  Status Listen(const std::string& host, int port) {
    const std::vector<std::string> options = {"listening_ports",
                                              host + ":" + std::to_string(port),
                                              "num_threads", "2"};
    try {
      server_ = std::make_unique<CivetServer>(options);
    } catch (const std::exception& e) {  // civetweb reports a failed bind by throwing
      return Status(ErrorCode::kServiceUnavailable,
                    "cannot listen on " + host + ":" + std::to_string(port) +
                        " for metrics: " + e.what());
    }
    server_->addHandler("/metrics", metrics_);
    server_->addHandler("/healthz", healthz_);
    server_->addHandler("/readyz", readyz_);
    const std::vector<int> ports = server_->getListeningPorts();
    port_ = ports.empty() ? 0 : ports.front();
    return Status();
  }

  int port() const override { return port_; }

 private:
  Handler metrics_;
  Handler healthz_;
  Handler readyz_;
  std::unique_ptr<CivetServer> server_;  // after the handlers it calls
  int port_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<HttpEndpoints>> HttpEndpoints::Start(const std::string& host, int port,
                                                              std::function<std::string()> render,
                                                              std::function<Status()> ready) {
  auto endpoints = std::make_unique<HttpEndpointsImpl>(std::move(render), std::move(ready));
  RIFFLE_RETURN_IF_ERROR(endpoints->Listen(host, port));
  return std::unique_ptr<HttpEndpoints>(std::move(endpoints));
}

}  // namespace riffle::metrics
