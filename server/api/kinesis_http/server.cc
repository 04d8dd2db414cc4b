#include "server/api/kinesis_http/server.h"

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

#include "server/api/kinesis_http/authentication.h"
#include "server/api/kinesis_http/http1_session.h"
#include "server/api/kinesis_http/operations.h"
#include "server/api/kinesis_http/session_host.h"
#include "server/auth/tls_context.h"

namespace riffle::kinesis_http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class ServerImpl final : public HttpServer, public SessionHost {
 public:
  ServerImpl(broker::Broker& broker, const HttpServerOptions& options)
      : broker_(broker), options_(options), acceptor_io_(1), acceptor_(acceptor_io_) {
    // One single-threaded io_context per worker thread, connections dealt round-robin: a
    // connection's handlers never hop threads, and no thread wakes another to run them (a
    // shared io_context spent a third of the CPU in futex wake-ups and context switches).
    for (int i = 0; i < options.threads; ++i) {
      workers_.push_back(std::make_unique<Worker>());
    }
  }

  ~ServerImpl() override { Shutdown(); }

  Status Listen() {
    if (!options_.tls_cert_file.empty()) {
      RIFFLE_RETURN_IF_ERROR(ReloadTls());
    }
    beast::error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address(options_.host, ec),
                           static_cast<unsigned short>(options_.port));
    if (ec) {
      return Status(ErrorCode::kInvalidArgument, "bad listen address " + options_.host);
    }
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return Status(ErrorCode::kServiceUnavailable, "cannot listen on " + options_.host + ":" +
                                                        std::to_string(options_.port) +
                                                        " for the Kinesis API: " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (auto& worker : workers_) {
      worker->thread = std::thread([w = worker.get()] { w->io.run(); });
    }
    acceptor_thread_ = std::thread([this] { acceptor_io_.run(); });
    return Status();
  }

  int port() const override { return port_; }
  size_t open_connections() const override { return open_connections_->load(); }

  Status ReloadTls() override {
    if (options_.tls_cert_file.empty()) {
      return Status();
    }
    RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<asio::ssl::context> context,
                            auth::MakeTlsContext(options_.tls_cert_file, options_.tls_key_file,
                                                 auth::Alpn::kHttp2AndHttp1));
    tls_.store(std::move(context));
    return Status();
  }

  void Shutdown() override {
    if (stopped_.exchange(true)) {
      return;
    }
    asio::post(acceptor_io_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    if (acceptor_thread_.joinable()) {
      acceptor_thread_.join();  // returns once the acceptor has no work left
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& worker : workers_) {
      worker->guard.reset();
      worker->io.stop();
    }
    for (auto& worker : workers_) {
      if (worker->thread.joinable()) {
        worker->thread.join();
      }
    }
  }

  broker::Broker& broker() override { return broker_; }

  StatusOr<broker::RequestContext> Authenticate(
      const auth::SignedRequest& request) const override {
    return kinesis_http::Authenticate(options_.credentials, request,
                                      options_.clock->NowMillis() / 1000);
  }

  void Handle(const StatusOr<broker::RequestContext>& caller, std::string_view peer,
              std::string_view target, std::string_view content_type, std::string& body,
              const Executor& executor, std::function<void(Reply)> done) override {
    in_flight_.fetch_add(1);
    std::string operation(target.starts_with(kTargetPrefix) ? target.substr(kTargetPrefix.size())
                                                            : target);
    std::string key_id = caller.ok() && caller->caller ? caller->caller->id : std::string();
    Dispatch(broker_, caller, target, content_type, body, executor,
             [this, start = std::chrono::steady_clock::now(), operation = std::move(operation),
              peer = std::string(peer), key_id = std::move(key_id),
              done = std::move(done)](Reply reply) {
               call_log_.Record(call_log::CallRecord{
                   .api = "kinesis",
                   .operation = operation,
                   .peer = peer,
                   .key_id = key_id,
                   .outcome = reply.error_type.empty() ? "ok" : reply.error_type,
                   .message = reply.error_message,
                   .server_error = reply.http_status >= 500 && reply.http_status != 503,
                   .unavailable = reply.http_status == 503,
                   .streaming = false,
                   .elapsed = std::chrono::steady_clock::now() - start});
               in_flight_.fetch_sub(1);
               done(std::move(reply));
             });
  }

  const HttpServerOptions& options() const override { return options_; }
  const Clock& clock() const override { return *options_.clock; }
  bool stopping() const override { return stopped_.load(); }

 private:
  void Accept() {
    Worker& worker = *workers_[next_worker_++ % workers_.size()];
    acceptor_.async_accept(worker.io, [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
          return;
        }
        // Out of file descriptors, say: accepting again at once would spin, so wait a little.
        spdlog::warn("kinesis api: accept failed: {}", ec.message());
        accept_backoff_.expires_after(std::chrono::milliseconds(100));
        accept_backoff_.async_wait([this](beast::error_code) { Accept(); });
        return;
      }
      if (open_connections_->fetch_add(1) >= options_.max_connections) {
        open_connections_->fetch_sub(1);
        RefuseConnection(std::move(s));
      } else if (std::shared_ptr<asio::ssl::context> tls = tls_.load()) {
        Handshake(std::move(s), std::move(tls), ConnectionSlot(open_connections_));
      } else {
        std::make_shared<Http1Session>(Connection(std::move(s), ConnectionSlot(open_connections_)),
                                       *this)
            ->Start();
      }
      Accept();
    });
  }

  // Over --max-connections: a short 503 if the socket takes it at once, then close. Plain text,
  // since a TLS client would need a handshake first; it sees the connection close.
  void RefuseConnection(tcp::socket socket) {
    static constexpr std::string_view kBody =
        R"({"__type":"ServiceUnavailable","message":"Too many open connections; retry in a moment."})";
    static const std::string kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/x-amz-json-1.1\r\n"
        "x-amzn-ErrorType: ServiceUnavailable\r\nConnection: close\r\nContent-Length: " +
        std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
    beast::error_code ignored;
    if (!tls_.load()) {
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(kBusy), ignored);
    }
    socket.close(ignored);
    if (refused_connections_.fetch_add(1) % 1000 == 0) {
      spdlog::warn("kinesis api: {} connections open, the limit; refusing more",
                   options_.max_connections);
    }
  }

  // TLS first, within the idle timeout; a client that fails it is dropped.
  void Handshake(tcp::socket socket, std::shared_ptr<asio::ssl::context> context,
                 ConnectionSlot slot) {
    auto stream = std::make_unique<Connection::TlsStream>(std::move(socket), *context);
    stream->next_layer().expires_after(options_.idle_timeout);
    Connection::TlsStream* raw = stream.get();
    raw->async_handshake(
        asio::ssl::stream_base::server,
        [this, stream = std::move(stream), context,
         slot = std::move(slot)](beast::error_code ec) mutable {
          if (ec) {
            spdlog::debug("kinesis api: TLS handshake failed: {}", ec.message());
            return;
          }
          std::make_shared<Http1Session>(Connection(std::move(stream), std::move(context),
                                                    std::move(slot)),
                                         *this)
              ->Start();
        });
  }

  broker::Broker& broker_;
  const HttpServerOptions options_;
  const call_log::CallLog call_log_{options_.call_log};
  struct Worker {
    asio::io_context io{1};  // concurrency hint 1: run by one thread (posts from others lock)
    asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
    std::thread thread;
  };

  std::vector<std::unique_ptr<Worker>> workers_;
  size_t next_worker_ = 0;  // only touched by the acceptor thread
  asio::io_context acceptor_io_;
  tcp::acceptor acceptor_;
  std::thread acceptor_thread_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<std::shared_ptr<asio::ssl::context>> tls_;  // null: plain TCP
  // Shared with every open connection's slot, which may outlive a Shutdown() in a moment.
  std::shared_ptr<std::atomic<size_t>> open_connections_ = std::make_shared<std::atomic<size_t>>(0);
  std::atomic<uint64_t> refused_connections_{0};
  asio::steady_timer accept_backoff_{acceptor_io_};
};

}  // namespace

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(broker::Broker& broker,
                                                        const HttpServerOptions& options) {
  static const SystemClock system_clock;
  HttpServerOptions resolved = options;
  if (resolved.clock == nullptr) {
    resolved.clock = &system_clock;
  }
  auto server = std::make_unique<ServerImpl>(broker, resolved);
  RIFFLE_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace riffle::kinesis_http
