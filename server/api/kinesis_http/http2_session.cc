#include "server/api/kinesis_http/http2_session.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "server/api/kinesis_http/response_headers.h"
#include "server/broker/subscription_pump.h"

namespace riffle::kinesis_http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

Http2Session::Http2Session(Connection connection, SessionHost& server,
                           beast::flat_buffer preread)
    : socket_(std::move(connection)),
      peer_(socket_.PeerAddress()),
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

Http2Session::~Http2Session() {
  nghttp2_session_del(session_);
}

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
  socket_.tcp().expires_after(server_.options().idle_timeout);
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
  socket_.Close(tcp::socket::shutdown_both);
  // An armed subscription timer holds the session; its handler sees closed_ and lets go.
  push_timer_.cancel();
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
  it->second.headers.emplace_back(key, text);
  if (key == "x-amz-target") {
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

ssize_t Http2Session::ReadResponse(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                                   uint32_t* data_flags, nghttp2_data_source*, void* self) {
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

auth::SignedRequest Http2Session::SignedView(const Stream& stream) {
  auth::SignedRequest view{.method = "", .target = "", .headers = {}, .body = stream.body};
  for (const auto& [name, value] : stream.headers) {
    if (name == ":method") {
      view.method = value;
    } else if (name == ":path") {
      view.target = value;
    }
    view.headers.emplace_back(name, value);
  }
  return view;
}

void Http2Session::Respond(int32_t stream_id, Stream& stream) {
  Reply reply;
  if (stream.too_large) {
    reply = ErrorReply(Status(ErrorCode::kSerialization,
                              "Request body exceeds the limit of " +
                                  std::to_string(server_.options().max_body_bytes) + " bytes."));
    reply.http_status = 413;
  } else if (stream.target == kSubscribeToShardTarget) {
    StatusOr<EventStreamPump> pump = OpenPump(server_.broker(), server_.clock(),
                                              server_.Authenticate(SignedView(stream)),
                                              stream.content_type, stream.body);
    if (pump.ok()) {
      StartPush(stream_id, stream, std::move(pump).value());
      return;
    }
    reply = ErrorReply(pump.status(), stream.content_type);
  } else {
    server_.Handle(server_.Authenticate(SignedView(stream)), peer_, stream.target,
                   stream.content_type,
                   stream.body,
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

}  // namespace riffle::kinesis_http
