// `--url URL`: the event is POSTed to an HTTP endpoint (one connection per batch, so a server
// that restarts between batches costs nothing); the body of a 2xx answer is the response.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "client/trigger/handler.h"

namespace riffle::trigger {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

struct ParsedUrl {
  std::string host;
  std::string port = "80";
  std::string target = "/";
};

std::optional<ParsedUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return std::nullopt;
  }
  url.remove_prefix(kScheme.size());
  ParsedUrl out;
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.target = std::string(url.substr(slash));
  }
  if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    out.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
  }
  out.host = std::string(authority);
  if (out.host.empty()) {
    return std::nullopt;
  }
  return out;
}

class UrlHandler final : public Handler {
 public:
  explicit UrlHandler(ParsedUrl url) : url_(std::move(url)) {}

  StatusOr<std::string> Invoke(const Invocation& invocation) override {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    beast::error_code error;
    http::response<http::string_body> response;
    stream.expires_after(invocation.timeout);
    boost::asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(url_.host, url_.port, error);
    if (!error) {
      stream.connect(endpoints, error);
    }
    if (!error) {
      http::request<http::string_body> request(http::verb::post, url_.target, 11);
      request.set(http::field::host, url_.host);
      request.set(http::field::content_type, "application/json");
      request.set("Lambda-Runtime-Aws-Request-Id", invocation.request_id);
      request.body() = invocation.event_json;
      request.prepare_payload();
      http::write(stream, request, error);
    }
    if (!error) {
      beast::flat_buffer buffer;
      http::read(stream, buffer, response, error);
    }
    if (error == beast::error::timeout) {
      return Status(ErrorCode::kInternalFailure,
                    fmt::format("handler timed out after {} ms", invocation.timeout.count()));
    }
    if (error) {
      return Status(ErrorCode::kInternalFailure,
                    fmt::format("POST {}: {}", url_.target, error.message()));
    }
    if (response.result_int() / 100 != 2) {
      return Status(ErrorCode::kInternalFailure,
                    fmt::format("handler answered HTTP {}: {}", response.result_int(),
                                response.body().substr(0, 200)));
    }
    return std::move(response.body());
  }

 private:
  const ParsedUrl url_;
};

}  // namespace

std::unique_ptr<Handler> NewUrlHandler(std::string url) {
  std::optional<ParsedUrl> parsed = ParseHttpUrl(url);
  if (!parsed) {
    return nullptr;
  }
  return std::make_unique<UrlHandler>(std::move(*parsed));
}

}  // namespace riffle::trigger
