#include "server/api/kinesis_http/http1_session.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "server/api/kinesis_http/cors.h"
#include "server/api/kinesis_http/http2_session.h"
#include "server/api/kinesis_http/operations.h"
#include "server/api/kinesis_http/response_headers.h"

namespace riffle::kinesis_http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;

constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// The answer to a browser's CORS preflight from an allowed origin: that origin, and the headers
// and method it asks for, for two days, as AWS answers.
http::response<http::string_body> CorsPreflight(const http::request<http::string_body>& request,
                                                std::string_view allowed_origin) {
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.set("x-amzn-RequestId", NewRequestId());
  response.set(http::field::access_control_allow_origin, allowed_origin);
  response.set(http::field::vary, "Origin");
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

std::string_view View(boost::beast::string_view text) { return {text.data(), text.size()}; }

// The request as SigV4 signs it.
auth::SignedRequest SignedView(const http::request<http::string_body>& request) {
  auth::SignedRequest view{.method = View(request.method_string()),
                           .target = View(request.target()),
                           .headers = {},
                           .body = request.body()};
  for (const auto& field : request) {
    view.headers.emplace_back(View(field.name_string()), View(field.value()));
  }
  return view;
}

http::response<http::string_body> MakeResponse(Reply reply, unsigned version, bool keep_alive) {
  http::response<http::string_body> response{static_cast<http::status>(reply.http_status), version};
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

// One HTTP/1.1 request, answered by `server` (or at once, for a CORS preflight). A page from an
// origin that --cors-origins does not list gets no CORS headers, so the browser keeps the
// answer from it; its preflight is refused outright.
void Handle(SessionHost& server, std::string_view peer, http::request<http::string_body>& request,
            const Executor& executor, std::function<void(http::response<http::string_body>)> done) {
  const std::string_view origin = View(request[http::field::origin]);
  const std::optional<std::string> allowed_origin =
      origin.empty() ? std::nullopt : AllowedOrigin(server.options().cors_origins, origin);
  if (!origin.empty() && request.method() == http::verb::options) {
    if (allowed_origin) {
      done(CorsPreflight(request, *allowed_origin));
    } else {
      Reply refused = ErrorReply(Status(
          ErrorCode::kAccessDenied,
          "Origin " + std::string(origin) + " is not allowed by this server's --cors-origins."));
      refused.http_status = 403;
      done(MakeResponse(std::move(refused), request.version(), request.keep_alive()));
    }
    return;
  }
  server.Handle(server.Authenticate(SignedView(request)), peer, View(request["X-Amz-Target"]),
                View(request[http::field::content_type]), request.body(), executor,
                [allowed_origin, version = request.version(), keep_alive = request.keep_alive(),
                 done = std::move(done)](Reply reply) {
                  auto response = MakeResponse(std::move(reply), version, keep_alive);
                  if (allowed_origin) {
                    response.set(http::field::access_control_allow_origin, *allowed_origin);
                    response.set(http::field::vary, "Origin");
                    response.set(http::field::access_control_expose_headers,
                                 "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,"
                                 "x-amzn-ErrorMessage,Date");
                  }
                  done(std::move(response));
                });
}

}  // namespace

Http1Session::Http1Session(Connection connection, SessionHost& server)
    : stream_(std::move(connection)), peer_(stream_.PeerAddress()), server_(server) {}

void Http1Session::Sniff() {
  const auto data = buffer_.data();
  const std::string_view seen(static_cast<const char*>(data.data()),
                              std::min(data.size(), kHttp2Preface.size()));
  if (seen != kHttp2Preface.substr(0, seen.size())) {
    Read();  // HTTP/1.1; Beast parses what is already in buffer_
    return;
  }
  if (seen.size() == kHttp2Preface.size()) {
    std::make_shared<Http2Session>(std::move(stream_), server_, std::move(buffer_))->Start();
    return;
  }
  stream_.tcp().expires_after(server_.options().idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) {
                              return;  // closed before a whole request line or preface
                            }
                            self->buffer_.commit(n);
                            self->Sniff();
                          });
}

void Http1Session::Read() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(server_.options().max_body_bytes);
  stream_.tcp().expires_after(server_.options().idle_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void Http1Session::OnRead(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
    stream_.Close(tcp::socket::shutdown_send);
    return;
  }
  if (ec) {
    // A request Riffle will not read: answer once, clearly, and close the connection (what
    // follows on it cannot be framed reliably).
    Status status =
        ec == http::error::body_limit
            ? Status(ErrorCode::kSerialization,
                     "Request body exceeds the limit of " +
                         std::to_string(server_.options().max_body_bytes) + " bytes.")
            : Status(ErrorCode::kSerialization, "Malformed HTTP request: " + ec.message());
    auto response = MakeResponse(ErrorReply(status), 11, /*keep_alive=*/false);
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
  Handle(server_, peer_, request, PostTo(stream_.get_executor()),
         [self = shared_from_this()](http::response<http::string_body> response) {
           self->Answer(std::move(response));
         });
}

void Http1Session::Subscribe(http::request<http::string_body>& request) {
  StatusOr<EventStreamPump> pump =
      OpenPump(server_.broker(), server_.clock(), server_.Authenticate(SignedView(request)),
               View(request[http::field::content_type]), request.body());
  if (!pump.ok()) {
    Answer(MakeResponse(ErrorReply(pump.status(), request[http::field::content_type]),
                        request.version(), request.keep_alive()));
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
  stream_.tcp().expires_never();  // the subscription's own clock ends it
  http::async_write_header(stream_, *push_->serializer,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (!ec) {
                               self->PumpSubscription();
                             }
                           });
}

void Http1Session::PumpSubscription() {
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

void Http1Session::WaitForRecords() {
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

void Http1Session::EndSubscription() {
  asio::async_write(stream_, http::make_chunk_last(),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      const bool keep_alive = self->push_->keep_alive;
                      self->push_.reset();
                      self->OnWrite(keep_alive, ec);
                    });
}

void Http1Session::Answer(http::response<http::string_body> response) {
  auto shared = std::make_shared<http::response<http::string_body>>(std::move(response));
  const bool keep_alive = shared->keep_alive() && !server_.stopping();
  shared->keep_alive(keep_alive);
  stream_.tcp().expires_after(server_.options().idle_timeout);
  http::async_write(stream_, *shared,
                    [self = shared_from_this(), shared, keep_alive](beast::error_code ec, size_t) {
                      self->OnWrite(keep_alive, ec);
                    });
}

void Http1Session::OnWrite(bool keep_alive, beast::error_code ec) {
  if (ec || !keep_alive) {
    stream_.Close(tcp::socket::shutdown_send);
    return;
  }
  Read();
}

}  // namespace riffle::kinesis_http
