#include "server/api/kinesis_http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nghttp2/nghttp2.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <cstring>
#include <map>
#include <ctime>
#include <thread>
#include <vector>

#include "server/api/kinesis_http/event_stream.h"
#include "server/api/kinesis_http/operations.h"
#include "server/broker/subscription_pump.h"

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

class ServerImpl;


// A subscription's events as event-stream messages, whichever HTTP version carries them:
// initial-response first, then what broker::SubscriptionPump paces, an exception message on
// error, and nothing after the end.
class EventStreamPump {
 public:
  EventStreamPump(broker::Broker& broker, broker::RequestContext ctx,
                  broker::Subscription subscription, const Clock& clock)
      : pump_(broker, std::move(ctx), std::move(subscription), clock,
              broker::SubscriptionPump::kKinesisLifetimeMs) {}

  // The next message, or nullopt when there is nothing to send yet.
  std::optional<std::string> Next() {
    if (!started_) {
      started_ = true;
      more_ready_ = true;  // the backlog, if any, follows at once
      pump_.StartSilence();
      return EncodeEventMessage("initial-response", "application/json", "{}");
    }
    StatusOr<std::optional<broker::SubscriptionEvent>> event = pump_.Next();
    more_ready_ = pump_.more_ready();
    if (!event.ok()) {
      return EncodeExceptionMessage(KinesisName(event.status().code()), event.status().message());
    }
    if (!event->has_value()) {
      return std::nullopt;
    }
    return EncodeEventMessage("SubscribeToShardEvent", "application/x-amz-json-1.1",
                              SubscriptionEventJson(**event));
  }
  bool done() const { return pump_.done(); }
  bool more_ready() const { return more_ready_; }
  broker::SubscriptionPump& pump() { return pump_; }

 private:
  broker::SubscriptionPump pump_;
  bool started_ = false;
  bool more_ready_ = false;
};

// Runs closures on a connection's own thread.
Executor PostTo(const asio::any_io_executor& executor) {
  return [executor](std::function<void()> f) { asio::post(executor, std::move(f)); };
}

constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// One HTTP/2 connection (h2c, prior knowledge) driven by nghttp2: frames in from the socket,
// each complete request stream answered in order of completion, frames out. Runs on one
// worker thread like Session, so its callbacks never race.
class Http2Session : public std::enable_shared_from_this<Http2Session> {
 public:
  Http2Session(tcp::socket socket, ServerImpl& server, beast::flat_buffer preread);
  ~Http2Session();
  void Start();

 private:
  struct Stream {
    std::string authorization;
    std::string target;
    std::string content_type;
    std::string body;
    bool too_large = false;
    // The response body, served to nghttp2 from here.
    std::string response;
    size_t sent = 0;
    // SubscribeToShard: the body grows as events come; nghttp2 is told to wait until then.
    std::unique_ptr<EventStreamPump> pump;
    bool awaiting_records = false;  // a wake-up is registered with the pump's shard
  };

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* self);
  static int OnDataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                         size_t len, void* self);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* self);
  static ssize_t ReadResponse(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                              uint32_t* data_flags, nghttp2_data_source* source, void* self);

  void Respond(int32_t stream_id, Stream& stream);
  void StartPush(int32_t stream_id, Stream& stream, EventStreamPump pump);
  // Moves every open subscription forward, then waits for an append to one of their shards or
  // the next heartbeat.
  void PumpSubscriptions();
  void SubmitReply(int32_t stream_id, Reply reply);
  bool Feed(const char* data, size_t size);
  void ReadMore();
  void Flush();
  void Close();

  beast::tcp_stream socket_;
  ServerImpl& server_;
  beast::flat_buffer preread_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  std::array<char, 16384> read_buffer_{};
  std::string write_buffer_;
  bool writing_ = false;
  bool closed_ = false;
  asio::steady_timer push_timer_;
  bool push_timer_armed_ = false;
};

// One connection: read a request, answer it, repeat while keep-alive holds.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl& server);
  // Reads until the first bytes tell HTTP/2 (the client preface: h2c with prior knowledge, as
  // the JS and Java SDKs speak to an http:// endpoint) from HTTP/1.1.
  void Start() { Sniff(); }

 private:
  void Sniff();
  void Read();
  void OnRead(beast::error_code ec);
  void Answer(http::response<http::string_body> response);
  void OnWrite(bool keep_alive, beast::error_code ec);

  // SubscribeToShard: a chunked event stream of up to 5 minutes on this connection.
  void Subscribe(http::request<http::string_body>& request);
  void PumpSubscription();
  // Pumps again after the next append to the shard or the next heartbeat, whichever is first.
  void WaitForRecords();
  void EndSubscription();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ServerImpl& server_;

  struct Push {
    std::optional<EventStreamPump> pump;
    http::response<http::empty_body> header;
    std::optional<http::response_serializer<http::empty_body>> serializer;
    asio::steady_timer timer;
    bool keep_alive = false;
    explicit Push(const asio::any_io_executor& executor) : timer(executor) {}
  };
  std::unique_ptr<Push> push_;
  bool awaiting_records_ = false;  // a wake-up is registered with the pump's shard
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

  broker::Broker& broker() { return broker_; }

  // One request, whichever HTTP version carried it. `done` runs on `executor`'s thread.
  void Handle(std::string_view authorization, std::string_view target,
              std::string_view content_type, std::string& body, const Executor& executor,
              std::function<void(Reply)> done) {
    in_flight_.fetch_add(1);
    Dispatch(broker_, authorization, target, content_type, body, executor,
             [this, done = std::move(done)](Reply reply) {
               in_flight_.fetch_sub(1);
               done(std::move(reply));
             });
  }

  void Handle(http::request<http::string_body>& request, const Executor& executor,
              std::function<void(http::response<http::string_body>)> done) {
    const std::string_view origin = request[http::field::origin];
    if (!origin.empty() && request.method() == http::verb::options) {
      done(CorsPreflight(request));
      return;
    }
    Handle(request[http::field::authorization], request["X-Amz-Target"],
           request[http::field::content_type], request.body(), executor,
           [cors = !origin.empty(), version = request.version(),
            keep_alive = request.keep_alive(), done = std::move(done)](Reply reply) {
             auto response = MakeResponse(std::move(reply), version, keep_alive);
             if (cors) {
               // Browsers (the JavaScript SDK in a web page) may call from any origin, as with
               // AWS.
               response.set(http::field::access_control_allow_origin, "*");
               response.set(http::field::access_control_expose_headers,
                            "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,"
                            "x-amzn-ErrorMessage,Date");
             }
             done(std::move(response));
           });
  }

  // The answer to a browser's CORS preflight: every origin, and the headers and method it asks
  // for, for two days, as AWS answers.
  static http::response<http::string_body> CorsPreflight(
      const http::request<http::string_body>& request) {
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set("x-amzn-RequestId", NewRequestId());
    response.set(http::field::access_control_allow_origin, "*");
    if (auto headers = request[http::field::access_control_request_headers]; !headers.empty()) {
      response.set(http::field::access_control_allow_headers, headers);
    }
    if (auto method = request[http::field::access_control_request_method]; !method.empty()) {
      response.set(http::field::access_control_allow_methods, method);
    }
    response.set(http::field::access_control_max_age, "172800");
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    return response;
  }

  static http::response<http::string_body> MakeResponse(Reply reply, unsigned version,
                                                        bool keep_alive) {
    http::response<http::string_body> response{static_cast<http::status>(reply.http_status),
                                               version};
    response.set("x-amzn-RequestId", NewRequestId());
    response.set(http::field::date, HttpDate());
    response.set(http::field::content_type, reply.content_type);
    if (!reply.error_type.empty()) {
      response.set("x-amzn-ErrorType", reply.error_type);
    }
    response.body() = std::move(reply.body);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    return response;
  }

  const HttpServerOptions& options() const { return options_; }
  const Clock& clock() const { return *options_.clock; }
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
};


// Authenticates and validates a SubscribeToShard request and opens its pump. The events are
// JSON whatever the request's format, as the SDKs accept.
StatusOr<EventStreamPump> OpenPump(ServerImpl& server, std::string_view authorization,
                                    std::string_view content_type, std::string& body) {
  RIFFLE_RETURN_IF_ERROR(BodyAsJson(content_type, body));
  broker::RequestContext ctx;
  RIFFLE_RETURN_IF_ERROR(ReadCredentials(authorization, ctx));
  RIFFLE_ASSIGN_OR_RETURN(broker::Subscription subscription,
                          StartSubscription(server.broker(), ctx, body));
  return EventStreamPump(server.broker(), std::move(ctx), std::move(subscription),
                         server.clock());
}

Http2Session::Http2Session(tcp::socket socket, ServerImpl& server, beast::flat_buffer preread)
    : socket_(std::move(socket)),
      server_(server),
      preread_(std::move(preread)),
      push_timer_(socket_.get_executor()) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, OnDataChunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, OnFrameRecv);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, OnStreamClose);
  nghttp2_session_server_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
}

Http2Session::~Http2Session() { nghttp2_session_del(session_); }

void Http2Session::Start() {
  // Large windows, so a 14 MiB PutRecords body flows without waiting on WINDOW_UPDATEs;
  // nghttp2 returns window as the body is consumed.
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 128},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 16 * 1024 * 1024},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, 64 * 1024 * 1024);
  const auto data = preread_.data();
  if (!Feed(static_cast<const char*>(data.data()), data.size())) {
    return;
  }
  preread_.consume(data.size());
  Flush();
  ReadMore();
}

bool Http2Session::Feed(const char* data, size_t size) {
  ssize_t consumed =
      nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), size);
  if (consumed < 0) {
    Close();  // a protocol error: nghttp2 has queued GOAWAY where it could
    return false;
  }
  return true;
}

void Http2Session::ReadMore() {
  if (closed_) {
    return;
  }
  socket_.expires_after(server_.options().idle_timeout);
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) {
                              self->Close();
                              return;
                            }
                            if (self->Feed(self->read_buffer_.data(), n)) {
                              self->Flush();
                              self->ReadMore();
                            }
                          });
}

void Http2Session::Flush() {
  if (writing_ || closed_) {
    return;
  }
  write_buffer_.clear();
  for (;;) {
    const uint8_t* chunk = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &chunk);
    if (n < 0) {
      Close();
      return;
    }
    if (n == 0) {
      break;
    }
    write_buffer_.append(reinterpret_cast<const char*>(chunk), static_cast<size_t>(n));
  }
  if (write_buffer_.empty()) {
    if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
      Close();
    }
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_buffer_),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->writing_ = false;
                      if (ec) {
                        self->Close();
                        return;
                      }
                      self->Flush();
                    });
}

void Http2Session::Close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  beast::error_code ignored;
  socket_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket_.socket().close(ignored);
}

int Http2Session::OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    static_cast<Http2Session*>(self)->streams_[frame->hd.stream_id];
  }
  return 0;
}

int Http2Session::OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                           size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                           void* self) {
  auto* session = static_cast<Http2Session*>(self);
  auto it = session->streams_.find(frame->hd.stream_id);
  if (it == session->streams_.end()) {
    return 0;
  }
  std::string_view key(reinterpret_cast<const char*>(name), namelen);  // lower case in HTTP/2
  std::string_view text(reinterpret_cast<const char*>(value), valuelen);
  if (key == "authorization") {
    it->second.authorization = text;
  } else if (key == "x-amz-target") {
    it->second.target = text;
  } else if (key == "content-type") {
    it->second.content_type = text;
  }
  return 0;
}

int Http2Session::OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                              size_t len, void* self) {
  auto* session = static_cast<Http2Session*>(self);
  auto it = session->streams_.find(stream_id);
  if (it == session->streams_.end()) {
    return 0;
  }
  Stream& stream = it->second;
  if (stream.too_large || stream.body.size() + len > session->server_.options().max_body_bytes) {
    stream.too_large = true;  // keep reading to the end of the stream, keep nothing
    stream.body.clear();
    return 0;
  }
  stream.body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int Http2Session::OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto* session = static_cast<Http2Session*>(self);
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
    auto it = session->streams_.find(frame->hd.stream_id);
    if (it != session->streams_.end()) {
      session->Respond(frame->hd.stream_id, it->second);
    }
  }
  return 0;
}

int Http2Session::OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* self) {
  static_cast<Http2Session*>(self)->streams_.erase(stream_id);
  return 0;
}

ssize_t Http2Session::ReadResponse(nghttp2_session*, int32_t stream_id, uint8_t* buf,
                                   size_t length, uint32_t* data_flags, nghttp2_data_source*,
                                   void* self) {
  auto* session = static_cast<Http2Session*>(self);
  auto it = session->streams_.find(stream_id);
  if (it == session->streams_.end()) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  Stream& stream = it->second;
  size_t n = std::min(length, stream.response.size() - stream.sent);
  if (n == 0 && stream.pump && !stream.pump->done()) {
    return NGHTTP2_ERR_DEFERRED;  // resumed when the next event is appended
  }
  std::memcpy(buf, stream.response.data() + stream.sent, n);
  stream.sent += n;
  if (stream.sent == stream.response.size()) {
    if (!stream.pump || stream.pump->done()) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    stream.response.clear();  // a subscription's body must not grow for 5 minutes
    stream.sent = 0;
  }
  return static_cast<ssize_t>(n);
}

void Http2Session::StartPush(int32_t stream_id, Stream& stream, EventStreamPump pump) {
  stream.body = std::string();
  stream.pump = std::make_unique<EventStreamPump>(std::move(pump));
  const std::string request_id = NewRequestId();
  auto header = [](std::string_view name, std::string_view value) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                      value.size(), NGHTTP2_NV_FLAG_NONE};
  };
  const nghttp2_nv headers[] = {
      header(":status", "200"),
      header("content-type", "application/vnd.amazon.eventstream"),
      header("x-amzn-requestid", request_id),
  };
  nghttp2_data_provider provider{};
  provider.read_callback = ReadResponse;
  nghttp2_submit_response(session_, stream_id, headers, std::size(headers), &provider);
  PumpSubscriptions();
}

void Http2Session::PumpSubscriptions() {
  if (closed_) {
    return;
  }
  bool open = false;
  int64_t due_ms = broker::SubscriptionPump::kHeartbeatMs;
  for (auto& [stream_id, stream] : streams_) {
    if (!stream.pump || stream.pump->done()) {
      continue;
    }
    bool appended = false;
    while (std::optional<std::string> message = stream.pump->Next()) {
      stream.response.append(*message);
      appended = true;
      if (stream.pump->done() || !stream.pump->more_ready() ||
          stream.response.size() > 4 * 1024 * 1024) {
        break;
      }
    }
    if (appended || stream.pump->done()) {
      nghttp2_session_resume_data(session_, stream_id);
    }
    if (stream.pump->done()) {
      continue;
    }
    open = true;
    if (stream.pump->more_ready()) {
      due_ms = 0;  // stopped at the size cap: go on after this flush
      continue;
    }
    due_ms = std::min(due_ms, stream.pump->pump().MillisUntilDue());
    if (!stream.awaiting_records) {
      stream.awaiting_records = stream.pump->pump().WaitForRecords(
          [weak = weak_from_this(), executor = socket_.get_executor(), id = stream_id] {
            asio::post(executor, [weak, id] {
              if (auto self = weak.lock()) {
                if (auto it = self->streams_.find(id); it != self->streams_.end()) {
                  it->second.awaiting_records = false;
                }
                if (self->push_timer_armed_) {
                  self->push_timer_.cancel();  // its handler pumps
                } else {
                  self->PumpSubscriptions();
                }
              }
            });
          });
      if (!stream.awaiting_records) {
        due_ms = 0;  // readable already
      }
    }
  }
  Flush();
  if (open && !push_timer_armed_) {
    push_timer_armed_ = true;
    push_timer_.expires_after(std::chrono::milliseconds(due_ms));
    push_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      self->push_timer_armed_ = false;
      // Due, or cancelled by a wake-up: look again either way.
      if (!ec || ec == asio::error::operation_aborted) {
        self->PumpSubscriptions();
      }
    });
  }
}

void Http2Session::Respond(int32_t stream_id, Stream& stream) {
  Reply reply;
  if (stream.too_large) {
    reply = ErrorReply(Status(ErrorCode::kSerialization,
                              "Request body exceeds the limit of " +
                                  std::to_string(server_.options().max_body_bytes) + " bytes."));
    reply.http_status = 413;
  } else if (stream.target == kSubscribeToShardTarget) {
    StatusOr<EventStreamPump> pump =
        OpenPump(server_, stream.authorization, stream.content_type, stream.body);
    if (pump.ok()) {
      StartPush(stream_id, stream, std::move(pump).value());
      return;
    }
    reply = ErrorReply(pump.status(), stream.content_type);
  } else {
    server_.Handle(stream.authorization, stream.target, stream.content_type, stream.body,
                   PostTo(socket_.get_executor()),
                   [self = shared_from_this(), stream_id](Reply reply) {
                     self->SubmitReply(stream_id, std::move(reply));
                     self->Flush();
                   });
    stream.body = std::string();
    return;
  }
  stream.body = std::string();
  SubmitReply(stream_id, std::move(reply));
}

void Http2Session::SubmitReply(int32_t stream_id, Reply reply) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end() || closed_) {
    return;  // the client reset the stream or left while the write committed
  }
  Stream& stream = it->second;
  stream.response = std::move(reply.body);
  const std::string status = std::to_string(reply.http_status);
  const std::string length = std::to_string(stream.response.size());
  const std::string request_id = NewRequestId();
  const std::string date = HttpDate();
  auto header = [](std::string_view name, std::string_view value) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                      value.size(), NGHTTP2_NV_FLAG_NONE};
  };
  std::vector<nghttp2_nv> headers = {
      header(":status", status),
      header("content-type", reply.content_type),
      header("content-length", length),
      header("x-amzn-requestid", request_id),
      header("date", date),
  };
  if (!reply.error_type.empty()) {
    headers.push_back(header("x-amzn-errortype", reply.error_type));
  }
  nghttp2_data_provider provider{};
  provider.read_callback = ReadResponse;
  nghttp2_submit_response(session_, stream_id, headers.data(), headers.size(), &provider);
}

Session::Session(tcp::socket socket, ServerImpl& server)
    : stream_(std::move(socket)), server_(server) {}

void Session::Sniff() {
  const auto data = buffer_.data();
  const std::string_view seen(static_cast<const char*>(data.data()),
                              std::min(data.size(), kHttp2Preface.size()));
  if (seen != kHttp2Preface.substr(0, seen.size())) {
    Read();  // HTTP/1.1; Beast parses what is already in buffer_
    return;
  }
  if (seen.size() == kHttp2Preface.size()) {
    std::make_shared<Http2Session>(stream_.release_socket(), server_, std::move(buffer_))->Start();
    return;
  }
  stream_.expires_after(server_.options().idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) {
                              return;  // closed before a whole request line or preface
                            }
                            self->buffer_.commit(n);
                            self->Sniff();
                          });
}

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
  if (request["X-Amz-Target"] == kSubscribeToShardTarget) {
    Subscribe(request);
    return;
  }
  server_.Handle(request, PostTo(stream_.get_executor()),
                 [self = shared_from_this()](http::response<http::string_body> response) {
                   self->Answer(std::move(response));
                 });
}

void Session::Subscribe(http::request<http::string_body>& request) {
  StatusOr<EventStreamPump> pump =
      OpenPump(server_, request[http::field::authorization], request[http::field::content_type],
               request.body());
  if (!pump.ok()) {
    Answer(ServerImpl::MakeResponse(
        ErrorReply(pump.status(), request[http::field::content_type]), request.version(),
        request.keep_alive()));
    return;
  }
  push_ = std::make_unique<Push>(stream_.get_executor());
  push_->pump.emplace(std::move(pump).value());
  push_->keep_alive = request.keep_alive();
  push_->header = http::response<http::empty_body>{http::status::ok, request.version()};
  push_->header.set("x-amzn-RequestId", NewRequestId());
  push_->header.set(http::field::date, HttpDate());
  push_->header.set(http::field::content_type, "application/vnd.amazon.eventstream");
  push_->header.keep_alive(push_->keep_alive);
  push_->header.chunked(true);
  push_->serializer.emplace(push_->header);
  stream_.expires_never();  // the subscription's own clock ends it
  http::async_write_header(stream_, *push_->serializer,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (!ec) {
                               self->PumpSubscription();
                             }
                           });
}

void Session::PumpSubscription() {
  if (server_.stopping()) {
    EndSubscription();
    return;
  }
  std::optional<std::string> message = push_->pump->Next();
  if (!message) {
    if (push_->pump->done()) {
      EndSubscription();
      return;
    }
    WaitForRecords();
    return;
  }
  auto data = std::make_shared<std::string>(std::move(*message));
  asio::async_write(stream_, http::make_chunk(asio::buffer(*data)),
                    [self = shared_from_this(), data](beast::error_code ec, size_t) {
                      if (ec) {
                        return;
                      }
                      if (self->push_->pump->done()) {
                        self->EndSubscription();
                      } else if (self->push_->pump->more_ready()) {
                        self->PumpSubscription();
                      } else {
                        self->WaitForRecords();
                      }
                    });
}

void Session::WaitForRecords() {
  int64_t due_ms = push_->pump->pump().MillisUntilDue();
  if (!awaiting_records_) {
    awaiting_records_ = push_->pump->pump().WaitForRecords(
        [weak = weak_from_this(), executor = stream_.get_executor()] {
          asio::post(executor, [weak] {
            if (auto self = weak.lock()) {
              self->awaiting_records_ = false;
              if (self->push_) {
                self->push_->timer.cancel();
              }
            }
          });
        });
    if (!awaiting_records_) {
      due_ms = 0;  // readable already
    }
  }
  push_->timer.expires_after(std::chrono::milliseconds(due_ms));
  push_->timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    // Due, or cancelled by a wake-up: look again either way.
    if ((!ec || ec == asio::error::operation_aborted) && self->push_) {
      self->PumpSubscription();
    }
  });
}

void Session::EndSubscription() {
  asio::async_write(stream_, http::make_chunk_last(),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      const bool keep_alive = self->push_->keep_alive;
                      self->push_.reset();
                      self->OnWrite(keep_alive, ec);
                    });
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
