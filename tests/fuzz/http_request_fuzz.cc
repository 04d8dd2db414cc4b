// The Kinesis port's request path behind the socket: Beast's HTTP/1.1 parser with the session's
// limits (request line, headers, Content-Length and chunked bodies), then the request's target,
// content type and body through Dispatch (JSON or CBOR decoding, each operation's validation)
// into a real broker on a scratch store, as http1_session.cc hands requests on. There is no
// credentials file, so every operation is reached; a small shard limit keeps a fuzzed
// CreateStream cheap.
#include <stdlib.h>

#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "common/clock.h"
#include "server/api/kinesis_http/operations.h"
#include "server/broker/broker.h"
#include "storage/store.h"

namespace {

namespace http = boost::beast::http;

// The limits http1_session.cc and HttpServerOptions set.
constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

// A store and broker in a scratch directory, removed with it. Made again every so many inputs,
// so that the records fuzzed puts leave do not fill the disk in a long run.
class ScratchBroker {
 public:
  ScratchBroker() {
    char dir[] = "/tmp/riffle-http-fuzz-XXXXXX";
    dir_ = mkdtemp(dir);
    riffle::storage::StoreOptions store_options;
    store_options.data_dir = dir_;
    store_options.fsync = riffle::storage::FsyncMode::kNever;
    store_ = riffle::storage::Store::Open(store_options).value();
    riffle::broker::BrokerOptions options;
    options.shard_limit = 8;
    broker_ = riffle::broker::Broker::Open(*store_, clock_, options).value();
  }
  ~ScratchBroker() {
    broker_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  riffle::broker::Broker& broker() { return *broker_; }

 private:
  std::filesystem::path dir_;
  riffle::SystemClock clock_;
  std::unique_ptr<riffle::storage::Store> store_;
  std::unique_ptr<riffle::broker::Broker> broker_;
};

std::string_view View(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

constexpr int kInputsPerScratch = 20000;

// Not a static object: RocksDB's own statics, made when the first store opens, must still be
// there when the last store closes, so it is closed by an exit handler registered after them.
ScratchBroker* scratch = nullptr;

void CloseScratch() {
  delete scratch;
  scratch = nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int inputs = 0;
  if (inputs++ % kInputsPerScratch == 0) {
    const bool first = scratch == nullptr;
    CloseScratch();
    scratch = new ScratchBroker();
    if (first) {
      std::atexit(CloseScratch);
    }
  }
  http::request_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  parser.eager(true);
  boost::beast::error_code ec;
  boost::asio::const_buffer input(data, size);
  while (input.size() > 0 && !parser.is_done() && !ec) {
    const size_t used = parser.put(input, ec);
    if (used == 0 && !ec) {
      break;  // needs more than the input holds
    }
    input += used;
  }
  if (!ec && !parser.is_done() && parser.got_some()) {
    parser.put_eof(ec);  // the connection closes after the input, as Beast's read does
  }
  if (ec || !parser.is_done()) {
    return 0;  // the session answers 400 and closes
  }
  http::request<http::string_body> request = parser.release();
  riffle::kinesis_http::Dispatch(
      scratch->broker(), riffle::broker::RequestContext{}, View(request["X-Amz-Target"]),
      View(request[http::field::content_type]), request.body(),
      [](std::function<void()> answer) { answer(); }, [](riffle::kinesis_http::Reply) {});
  return 0;
}
