#include "server/api/kinesis_http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>
#include <thread>
#include <vector>

#include "server/api/kinesis_http/operations.h"

namespace riffle::kinesis_http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = 64 * 1024;

std::string NewRequestId() {
  unsigned char b[16];
  RAND_bytes(b, sizeof(b));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[40];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

// RFC 7231 date, e.g. "Thu, 26 Nov 2026 23:06:16 GMT".
std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// Region and account from a SigV4 Authorization header:
// AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/kinesis/aws4_request, SignedHeaders=..,
// Signature=..  Any complete header is accepted; a 12-digit access key names the account.
Status ReadCredentials(std::string_view authorization, broker::RequestContext& ctx) {
  if (authorization.empty()) {
    return Status(ErrorCode::kMissingAuthenticationToken, "Missing Authentication Token");
  }
  const size_t credential = authorization.find("Credential=");
  if (authorization.substr(0, 17) != "AWS4-HMAC-SHA256 " || credential == std::string_view::npos ||
      authorization.find("Signature=") == std::string_view::npos ||
      authorization.find("SignedHeaders=") == std::string_view::npos) {
    return Status(ErrorCode::kIncompleteSignature,
                  "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
                  "parameters of an AWS4-HMAC-SHA256 signature.");
  }
  std::string_view scope = authorization.substr(credential + 11);
  scope = scope.substr(0, scope.find_first_of(", "));
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = scope.find('/', start);
    parts.push_back(scope.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  if (parts.size() != 5 || parts[0].empty() || parts[2].empty()) {
    return Status(ErrorCode::kIncompleteSignature,
                  "Credential should be scoped to a valid region: <key>/<date>/<region>/kinesis/"
                  "aws4_request.");
  }
  ctx.region = std::string(parts[2]);
  if (parts[0].size() == 12 &&
      parts[0].find_first_not_of("0123456789") == std::string_view::npos) {
    ctx.account = std::string(parts[0]);
  }
  return Status();
}

class ServerImpl;

// One connection: read a request, answer it, repeat while keep-alive holds.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl& server);
  void Start() { Read(); }

 private:
  void Read();
  void OnRead(beast::error_code ec);
  void Answer(http::response<http::string_body> response);
  void OnWrite(bool keep_alive, beast::error_code ec);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ServerImpl& server_;
};

class ServerImpl final : public HttpServer {
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
      return Status(ErrorCode::kServiceUnavailable,
                    "cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
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

  http::response<http::string_body> Handle(http::request<http::string_body>& request) {
    in_flight_.fetch_add(1);
    broker::RequestContext ctx;
    Reply reply;
    if (Status auth = ReadCredentials(request[http::field::authorization], ctx); !auth.ok()) {
      reply = ErrorReply(auth);
    } else {
      reply = Dispatch(broker_, ctx, request["X-Amz-Target"], request.body());
    }
    in_flight_.fetch_sub(1);
    return MakeResponse(std::move(reply), request.version(), request.keep_alive());
  }

  static http::response<http::string_body> MakeResponse(Reply reply, unsigned version,
                                                        bool keep_alive) {
    http::response<http::string_body> response{static_cast<http::status>(reply.http_status),
                                               version};
    response.set("x-amzn-RequestId", NewRequestId());
    response.set(http::field::date, HttpDate());
    response.set(http::field::content_type, "application/x-amz-json-1.1");
    if (!reply.error_type.empty()) {
      response.set("x-amzn-ErrorType", reply.error_type);
    }
    response.body() = std::move(reply.body);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    return response;
  }

  const HttpServerOptions& options() const { return options_; }
  bool stopping() const { return stopped_.load(); }

 private:
  void Accept() {
    Worker& worker = *workers_[next_worker_++ % workers_.size()];
    acceptor_.async_accept(worker.io, [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
          return;
        }
        spdlog::warn("kinesis api: accept failed: {}", ec.message());
      } else {
        std::make_shared<Session>(std::move(s), *this)->Start();
      }
      Accept();
    });
  }

  broker::Broker& broker_;
  const HttpServerOptions options_;
  struct Worker {
    asio::io_context io{1};  // concurrency hint 1: one thread, no internal locking
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
};

Session::Session(tcp::socket socket, ServerImpl& server)
    : stream_(std::move(socket)), server_(server) {}

void Session::Read() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(server_.options().max_body_bytes);
  stream_.expires_after(server_.options().idle_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void Session::OnRead(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  if (ec) {
    // A request Riffle will not read: answer once, clearly, and close the connection (what
    // follows on it cannot be framed reliably).
    Status status = ec == http::error::body_limit
                        ? Status(ErrorCode::kSerialization,
                                 "Request body exceeds the limit of " +
                                     std::to_string(server_.options().max_body_bytes) + " bytes.")
                        : Status(ErrorCode::kSerialization, "Malformed HTTP request: " + ec.message());
    auto response = ServerImpl::MakeResponse(ErrorReply(status), 11, /*keep_alive=*/false);
    if (ec == http::error::body_limit) {
      response.result(http::status::payload_too_large);
    }
    Answer(std::move(response));
    return;
  }
  http::request<http::string_body> request = parser_->release();
  Answer(server_.Handle(request));
}

void Session::Answer(http::response<http::string_body> response) {
  auto shared = std::make_shared<http::response<http::string_body>>(std::move(response));
  const bool keep_alive = shared->keep_alive() && !server_.stopping();
  shared->keep_alive(keep_alive);
  stream_.expires_after(server_.options().idle_timeout);
  http::async_write(stream_, *shared,
                    [self = shared_from_this(), shared, keep_alive](beast::error_code ec, size_t) {
                      self->OnWrite(keep_alive, ec);
                    });
}

void Session::OnWrite(bool keep_alive, beast::error_code ec) {
  if (ec || !keep_alive) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  Read();
}

}  // namespace

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(broker::Broker& broker,
                                                        const HttpServerOptions& options) {
  auto server = std::make_unique<ServerImpl>(broker, options);
  RIFFLE_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace riffle::kinesis_http
