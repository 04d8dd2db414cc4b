// The Kinesis port's request path behind the socket: Beast's HTTP/1.1 parser with the session's
// limits (request line, headers, Content-Length and chunked bodies), then the request's target,
// content type and body through Dispatch (JSON or CBOR decoding, each operation's validation)
// into a real broker on a scratch store (scratch_broker.h), as http1_session.cc hands requests on.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "server/api/kinesis_http/operations.h"
#include "server/broker/broker.h"
#include "tests/fuzz/scratch_broker.h"

namespace {

namespace http = boost::beast::http;

// The limits http1_session.cc and HttpServerOptions set.
constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

std::string_view View(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  riffle::broker::Broker& broker = riffle::fuzz::ScratchBrokerForInput();
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
      broker, riffle::broker::RequestContext{}, View(request["X-Amz-Target"]),
      View(request[http::field::content_type]), request.body(),
      [](std::function<void()> answer) { answer(); }, [](riffle::kinesis_http::Reply) {});
  return 0;
}
