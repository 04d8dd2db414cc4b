// The Kinesis port's HTTP/2 path (h2c, what the JS and Java SDKs speak): a real Http2Session is
// handed the input as the bytes its connection began with, after the client preface that
// Http1Session recognizes before it hands over. nghttp2's framing, HPACK and flow control run
// into the session's callbacks (headers, bodies against the size limit, SubscribeToShard's
// event stream) and on through Dispatch into a real broker on a scratch store
// (scratch_broker.h). The session's socket is a loopback connection whose client end is
// already closed: the session reads the end of the connection once the input is used up, and
// its answers go nowhere.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include "common/clock.h"
#include "server/api/kinesis_http/authentication.h"
#include "server/api/kinesis_http/connection.h"
#include "server/api/kinesis_http/http2_session.h"
#include "server/api/kinesis_http/operations.h"
#include "server/api/kinesis_http/session_host.h"
#include "tests/fuzz/scratch_broker.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using riffle::kinesis_http::Connection;
using riffle::kinesis_http::ConnectionSlot;
using riffle::kinesis_http::Http2Session;

constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// What HttpServer gives a session, without credentials (every well-formed signature names
// its caller) and with a body limit small enough for fuzzed inputs to cross.
class FuzzHost final : public riffle::kinesis_http::SessionHost {
 public:
  FuzzHost() { options_.max_body_bytes = 1024; }
  void set_broker(riffle::broker::Broker& broker) { broker_ = &broker; }

  riffle::broker::Broker& broker() override { return *broker_; }
  const riffle::kinesis_http::HttpServerOptions& options() const override { return options_; }
  const riffle::Clock& clock() const override { return clock_; }
  bool stopping() const override { return false; }
  riffle::StatusOr<riffle::broker::RequestContext> Authenticate(
      const riffle::auth::SignedRequest& request) const override {
    return riffle::kinesis_http::Authenticate(nullptr, request, clock_.NowMillis() / 1000);
  }
  void Handle(const riffle::StatusOr<riffle::broker::RequestContext>& caller, std::string_view,
              std::string_view target, std::string_view content_type, std::string& body,
              const riffle::kinesis_http::Executor& executor,
              std::function<void(riffle::kinesis_http::Reply)> done) override {
    riffle::kinesis_http::Dispatch(*broker_, caller, target, content_type, body, executor,
                                   std::move(done));
  }

 private:
  riffle::broker::Broker* broker_ = nullptr;
  riffle::kinesis_http::HttpServerOptions options_;
  riffle::SystemClock clock_;
};

struct Loopback {
  asio::io_context io;
  // Always there: an io_context that runs out of work stops, and a stopped one runs nothing
  // until restarted, which would leave the next input's session unserved.
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  std::shared_ptr<std::atomic<size_t>> open_connections = std::make_shared<std::atomic<size_t>>(0);
};

// A session must be gone well within this; longer is a hang of the session, reported as one.
constexpr auto kSessionDeadline = std::chrono::seconds(10);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FuzzHost host;
  static Loopback loopback;
  host.set_broker(riffle::fuzz::ScratchBrokerForInput());

  boost::system::error_code ec;
  tcp::socket client(loopback.io);
  client.connect(loopback.acceptor.local_endpoint(), ec);
  tcp::socket accepted(loopback.io);
  if (!ec) {
    loopback.acceptor.accept(accepted, ec);
  }
  if (ec) {
    std::fprintf(stderr, "http2_request_fuzz: no loopback connection: %s\n", ec.message().c_str());
    std::abort();
  }
  client.close();

  boost::beast::flat_buffer preread;
  auto space = preread.prepare(kClientPreface.size() + size);
  std::memcpy(space.data(), kClientPreface.data(), kClientPreface.size());
  if (size > 0) {
    std::memcpy(static_cast<char*>(space.data()) + kClientPreface.size(), data, size);
  }
  preread.commit(kClientPreface.size() + size);

  auto session = std::make_shared<Http2Session>(
      Connection(std::move(accepted), ConnectionSlot(loopback.open_connections)), host,
      std::move(preread));
  std::weak_ptr<Http2Session> alive = session;
  session->Start();
  session.reset();
  // The session lives while a read, a write, a timer or a broker answer holds it; answers of
  // writes come from the commit pipeline's thread, so the loop waits for them too.
  const auto deadline = std::chrono::steady_clock::now() + kSessionDeadline;
  while (!alive.expired()) {
    loopback.io.run_one_for(std::chrono::milliseconds(10));
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "http2_request_fuzz: the session outlived its connection\n");
      std::abort();
    }
  }
  loopback.io.poll();  // what the session left queued runs now, not during the next input
  return 0;
}
