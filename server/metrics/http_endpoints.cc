#include "server/metrics/http_endpoints.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/auth/tls_context.h"

namespace riffle::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A scrape or probe is one small GET: a connection gets this long for its request and the
// answer, and only this many are served at once (more are closed at once).
constexpr std::chrono::seconds kConnectionDeadline{10};
constexpr int kMaxConnections = 64;
constexpr size_t kMaxRequestBytes = 16 * 1024;

struct Routes {
  std::function<std::string()> render;
  std::function<Status()> ready;

  http::response<http::string_body> Answer(const http::request<http::string_body>& request) const {
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(false);
    response.set(http::field::content_type, "text/plain");
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (request.method() != http::verb::get) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET");
      response.body() = "only GET\n";
    } else if (path == "/metrics") {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4");
      response.body() = render();
    } else if (path == "/healthz") {
      response.result(http::status::ok);
      response.body() = "ok\n";
    } else if (path == "/readyz") {
      const Status status = ready();
      response.result(status.ok() ? http::status::ok : http::status::service_unavailable);
      response.body() = status.ok() ? "ready\n" : status.message() + "\n";
    } else {
      response.result(http::status::not_found);
      response.body() = "not found: /metrics, /healthz and /readyz are served here\n";
    }
    response.prepare_payload();
    return response;
  }
};

// One connection: read one request, answer it, close. `Stream` is a TCP socket or a TLS
// stream over one.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  // `tls` is the context a TLS stream was made with (null for plain TCP): the session keeps it
  // across a reload.
  Session(std::shared_ptr<asio::ssl::context> tls, Stream stream, const Routes& routes,
          std::atomic<int>& open)
      : tls_(std::move(tls)),
        stream_(std::move(stream)),
        routes_(routes),
        open_(open),
        deadline_(stream_.get_executor()) {}
  ~Session() { open_.fetch_sub(1); }

  void Start() {
    deadline_.expires_after(kConnectionDeadline);
    deadline_.async_wait([self = this->shared_from_this()](beast::error_code error) {
      if (!error) {
        beast::get_lowest_layer(self->stream_).close();  // a client too slow to ask
      }
    });
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      Read();
    } else {
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code error) {
                                if (!error) {
                                  self->Read();
                                } else {
                                  self->deadline_.cancel();
                                }
                              });
    }
  }

 private:
  void Read() {
    parser_.body_limit(kMaxRequestBytes);
    parser_.header_limit(kMaxRequestBytes);
    http::async_read(stream_, buffer_, parser_,
                     [self = this->shared_from_this()](beast::error_code error, size_t) {
                       if (error) {
                         self->deadline_.cancel();
                         return;
                       }
                       self->response_ = self->routes_.Answer(self->parser_.get());
                       http::async_write(self->stream_, self->response_,
                                         [self](beast::error_code, size_t) {
                                           self->deadline_.cancel();
                                           beast::get_lowest_layer(self->stream_).close();
                                         });
                     });
  }

  const std::shared_ptr<asio::ssl::context> tls_;  // outlives stream_
  Stream stream_;
  const Routes& routes_;
  std::atomic<int>& open_;
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
};

class HttpEndpointsImpl final : public HttpEndpoints {
 public:
  HttpEndpointsImpl(auth::TlsFiles tls, Routes routes)
      : tls_files_(std::move(tls)), routes_(std::move(routes)), acceptor_(io_) {}

  ~HttpEndpointsImpl() override {
    io_.stop();  // no handler runs after the thread is joined
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  Status Listen(const std::string& host, int port) {
    RIFFLE_RETURN_IF_ERROR(ReloadTls());
    const std::string where = host + ":" + std::to_string(port);
    beast::error_code error;
    const asio::ip::address address = asio::ip::make_address(host, error);
    if (error) {
      return Status(ErrorCode::kInvalidArgument,
                    "cannot listen on " + where + " for metrics: " + error.message());
    }
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
    acceptor_.open(endpoint.protocol(), error);
    if (!error) {
      acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    }
    if (!error) {
      acceptor_.bind(endpoint, error);
    }
    if (!error) {
      acceptor_.listen(asio::socket_base::max_listen_connections, error);
    }
    if (error) {
      return Status(ErrorCode::kServiceUnavailable,
                    "cannot listen on " + where + " for metrics: " + error.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return Status();
  }

  int port() const override { return port_; }

  Status ReloadTls() override {
    if (tls_files_.cert_file.empty()) {
      return Status();
    }
    RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<asio::ssl::context> context,
                            auth::MakeTlsContext(tls_files_.cert_file, tls_files_.key_file,
                                                 auth::Alpn::kHttp1));
    std::lock_guard lock(tls_mu_);
    tls_ = std::move(context);
    return Status();
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) {
        return;
      }
      if (!error && open_.fetch_add(1) < kMaxConnections) {
        std::shared_ptr<asio::ssl::context> tls;
        {
          std::lock_guard lock(tls_mu_);
          tls = tls_;
        }
        if (tls) {
          asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
          std::make_shared<Session<asio::ssl::stream<tcp::socket>>>(std::move(tls),
                                                                    std::move(stream), routes_,
                                                                    open_)
              ->Start();
        } else {
          std::make_shared<Session<tcp::socket>>(nullptr, std::move(socket), routes_, open_)
              ->Start();
        }
      } else if (!error) {
        open_.fetch_sub(1);  // over the limit: closed as `socket` goes
      }
      Accept();
    });
  }

  // Sessions use the routes and the count until io_'s destruction ends them: both come first.
  const auth::TlsFiles tls_files_;
  const Routes routes_;
  std::atomic<int> open_{0};
  std::mutex tls_mu_;
  std::shared_ptr<asio::ssl::context> tls_;  // null: plain HTTP
  asio::io_context io_;
  tcp::acceptor acceptor_;
  // One thread: a session's handlers never run concurrently, and an answer takes microseconds
  // to milliseconds.
  std::thread thread_;
  int port_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<HttpEndpoints>> HttpEndpoints::Start(const std::string& host, int port,
                                                              auth::TlsFiles tls,
                                                              std::function<std::string()> render,
                                                              std::function<Status()> ready) {
  auto endpoints = std::make_unique<HttpEndpointsImpl>(
      std::move(tls), Routes{std::move(render), std::move(ready)});
  RIFFLE_RETURN_IF_ERROR(endpoints->Listen(host, port));
  return std::unique_ptr<HttpEndpoints>(std::move(endpoints));
}

}  // namespace riffle::metrics
