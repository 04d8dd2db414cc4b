// Watch: one streaming HTTP connection to etcd's /v3/watch at a time, on the watch's thread.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/cluster/etcd_client.h"
#include "server/cluster/etcd_wire.h"

namespace riffle::cluster {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using internal::Await;
using internal::HttpConnection;
using internal::KeyFields;
using internal::Quoted;
using internal::Reply;
using element = simdjson::dom::element;

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

}  // namespace

Watch::Watch(std::vector<EtcdEndpoint> endpoints, std::chrono::milliseconds timeout,
             std::string prefix, int64_t start_revision,
             std::function<void(const WatchEvent&)> on_event,
             std::function<void(int64_t)> on_compacted)
    : endpoints_(std::move(endpoints)),
      timeout_(timeout),
      prefix_(std::move(prefix)),
      on_event_(std::move(on_event)),
      on_compacted_(std::move(on_compacted)),
      next_revision_(start_revision),
      connection_(std::make_unique<HttpConnection>()),
      thread_([this] { Run(); }) {}

Watch::~Watch() { Stop(); }

void Watch::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stopping_cv_.notify_all();
  // Closing the socket from this thread would race with the watch thread's use of it; a
  // handler on the watch's io_context closes it there and so ends whatever the thread awaits.
  asio::post(connection_->io, [connection = connection_.get()] { connection->stream.close(); });
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool Watch::Stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

void Watch::Run() {
  std::chrono::milliseconds backoff = kFirstBackoff;
  for (size_t attempt = 0; !Stopping(); ++attempt) {
    bool created = false;
    if (Stream(endpoints_[attempt % endpoints_.size()], created) == Next::kEnd) {
      return;
    }
    backoff = created ? kFirstBackoff : backoff;
    std::unique_lock lock(mu_);
    stopping_cv_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

Watch::Next Watch::Stream(const EtcdEndpoint& endpoint, bool& created) {
  HttpConnection& connection = *connection_;
  connection.stream.close();
  connection.buffer.clear();
  if (beast::error_code ec = internal::Open(connection, endpoint, timeout_)) {
    spdlog::warn("etcd watch: cannot connect to {}: {}", endpoint.url, ec.message());
    return Next::kReconnect;
  }
  const std::string from =
      next_revision_ > 0 ? ",\"start_revision\":" + Quoted(next_revision_) : "";
  http::request<http::string_body> request = internal::Request(
      endpoint, "/v3/watch", "{\"create_request\":{" + KeyFields(prefix_, true) + from + "}}");
  // A member cut off from the leader would keep the watch open and silent; with this header
  // etcd cancels it instead, and the watch moves on to another endpoint.
  request.set("Grpc-Metadata-Hasleader", "true");
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // the stream has no end
  beast::error_code ec = Await(connection.io, [&](auto done) {
    http::async_write(connection.stream, request, std::move(done));
  });
  if (!ec) {
    ec = Await(connection.io, [&](auto done) {
      http::async_read_header(connection.stream, connection.buffer, parser, std::move(done));
    });
  }
  if (!ec && parser.get().result() != http::status::ok) {
    spdlog::warn("etcd watch: {} answered HTTP {}", endpoint.url, parser.get().result_int());
    return Next::kReconnect;
  }
  connection.stream.expires_never();
  std::string pending;
  char chunk[16384];
  while (!ec && !Stopping()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    ec = Await(connection.io, [&](auto done) {
      http::async_read_some(connection.stream, connection.buffer, parser, std::move(done));
    });
    ec = ec == http::error::need_buffer ? beast::error_code() : ec;
    pending.append(chunk, sizeof chunk - parser.get().body().size);
    // The gateway ends each message with a newline.
    for (size_t end; (end = pending.find('\n')) != std::string::npos; pending.erase(0, end + 1)) {
      if (Next next = Handle(endpoint, std::string_view(pending).substr(0, end), created);
          next != Next::kRead) {
        return next;
      }
    }
    if (!ec && parser.is_done()) {
      ec = http::error::end_of_stream;
    }
  }
  if (ec && !Stopping()) {
    spdlog::warn("etcd watch: lost {}: {}; resuming at revision {}", endpoint.url, ec.message(),
                 next_revision_);
  }
  return Next::kReconnect;
}

Watch::Next Watch::Handle(const EtcdEndpoint& endpoint, std::string_view message, bool& created) {
  Reply reply(message);
  std::optional<element> result = reply.Member(reply.root(), "result");
  if (!result) {
    std::optional<Status> error = reply.Error(endpoint);
    spdlog::warn("etcd watch: {}", error ? error->message() : endpoint.url + " sent no result");
    return Next::kReconnect;
  }
  if (reply.Bool(*result, "canceled")) {
    if (const int64_t compacted = reply.Int(*result, "compact_revision"); compacted > 0) {
      if (on_compacted_) {
        on_compacted_(compacted);
      }
      return Next::kEnd;
    }
    spdlog::warn("etcd watch: {} canceled it: {}", endpoint.url,
                 reply.String(*result, "cancel_reason"));
    return Next::kReconnect;
  }
  if (reply.Bool(*result, "created")) {
    created = true;
    // From "now" means after the revision etcd had when it created the watch.
    next_revision_ = next_revision_ > 0 ? next_revision_ : reply.Revision(*result) + 1;
  }
  std::vector<WatchEvent> events;
  for (element item : reply.List(*result, "events")) {
    std::optional<element> kv = reply.Member(item, "kv");
    WatchEvent& event = events.emplace_back();
    event.type = reply.String(item, "type") == "DELETE" ? WatchEvent::Type::kDelete
                                                        : WatchEvent::Type::kPut;
    event.kv = kv ? reply.Kv(*kv) : KeyValue();
    event.revision = event.kv.mod_revision;
  }
  if (!reply.ok()) {
    spdlog::warn("etcd watch: {} sent a message Riffle cannot read: {}", endpoint.url,
                 reply.problem());
    return Next::kReconnect;
  }
  for (const WatchEvent& event : events) {
    if (Stopping()) {
      return Next::kEnd;
    }
    on_event_(event);
    next_revision_ = event.revision + 1;
  }
  return Next::kRead;
}

}  // namespace riffle::cluster
