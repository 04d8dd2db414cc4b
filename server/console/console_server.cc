#include "server/console/console_server.h"

#include <CivetServer.h>

#include <algorithm>
#include <future>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "server/console/embedded_assets.h"

namespace riffle::console {
namespace {

// Request bodies above this are refused before they are read: a 10 MiB record in base64 with
// its partition key fits.
constexpr long long kMaxBodyBytes = 16LL * 1024 * 1024;

// The page loads its script and style from this origin only, and no other site may frame it.
constexpr const char* kPageHeaders =
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n";

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

void Respond(mg_connection* conn, const ApiResponse& response, const char* extra_headers) {
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
      "Connection: close\r\n{}",
      response.status, ReasonPhrase(response.status), response.content_type, response.body.size(),
      extra_headers);
  if (!response.attachment_name.empty()) {
    head += fmt::format("Content-Disposition: attachment; filename=\"{}\"\r\n",
                        response.attachment_name);
  }
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  mg_write(conn, response.body.data(), response.body.size());
}

std::string UrlDecode(std::string_view text) {
  std::string out(text.size() + 1, '\0');
  const int length = mg_url_decode(text.data(), static_cast<int>(text.size()), out.data(),
                                   static_cast<int>(out.size()), /*is_form_url_encoded=*/1);
  out.resize(static_cast<size_t>(std::max(length, 0)));
  return out;
}

std::map<std::string, std::string> ParseQuery(const char* query) {
  std::map<std::string, std::string> out;
  std::string_view rest = query == nullptr ? "" : query;
  while (!rest.empty()) {
    const std::string_view pair = rest.substr(0, rest.find('&'));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    const size_t equals = pair.find('=');
    out[UrlDecode(pair.substr(0, equals))] =
        equals == std::string_view::npos ? "" : UrlDecode(pair.substr(equals + 1));
  }
  return out;
}

std::string Header(mg_connection* conn, const char* name) {
  const char* value = mg_get_header(conn, name);
  return value == nullptr ? "" : value;
}

// /api/...: the JSON API.
class ApiHandler final : public CivetHandler {
 public:
  explicit ApiHandler(ConsoleApi& api) : api_(api) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override { return Serve(conn); }
  bool handlePost(CivetServer* /*server*/, mg_connection* conn) override { return Serve(conn); }
  bool handleDelete(CivetServer* /*server*/, mg_connection* conn) override { return Serve(conn); }

 private:
  bool Serve(mg_connection* conn) {
    const mg_request_info* info = mg_get_request_info(conn);
    ApiRequest request;
    request.method = info->request_method;
    request.path = info->local_uri;
    request.query = ParseQuery(info->query_string);
    request.content_type = Header(conn, "Content-Type");
    request.origin = Header(conn, "Origin");
    request.sec_fetch_site = Header(conn, "Sec-Fetch-Site");
    request.host = Header(conn, "Host");
    request.authorization = Header(conn, "Authorization");
    if (info->content_length > kMaxBodyBytes) {
      Respond(conn,
              ApiResponse{.status = 413,
                          .content_type = "application/json",
                          .body = R"({"error":"InvalidArgumentException",)"
                                  R"("message":"The request body is larger than 16 MiB."})",
                          .attachment_name = {}},
              "");
      return true;
    }
    std::vector<char> buffer(64 * 1024);
    for (int read; (read = mg_read(conn, buffer.data(), buffer.size())) > 0;) {
      request.body.append(buffer.data(), static_cast<size_t>(read));
    }
    // On a thread of its own: civetweb's workers have stacks of ~128 KiB (Debian's build), too
    // small for the broker's calls into RocksDB (creating a stream overflowed one). The
    // console's request rate makes a thread per request cheap.
    std::future<ApiResponse> response =
        std::async(std::launch::async, [this, &request] { return api_.Handle(request); });
    Respond(conn, response.get(), "");
    return true;
  }

  ConsoleApi& api_;
};

// Everything else: the page's files; any other path is a 404.
class PageHandler final : public CivetHandler {
 public:
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    const std::string_view path = mg_get_request_info(conn)->local_uri;
    const std::span<const EmbeddedAsset> assets = EmbeddedAssets();
    auto it = std::find_if(assets.begin(), assets.end(),
                           [&](const EmbeddedAsset& asset) { return asset.path == path; });
    if (it == assets.end()) {
      Respond(conn,
              ApiResponse{.status = 404,
                          .content_type = "text/plain",
                          .body = "not found\n",
                          .attachment_name = {}},
              "");
      return true;
    }
    Respond(conn,
            ApiResponse{.status = 200,
                        .content_type = std::string(it->content_type),
                        .body = std::string(it->data),
                        .attachment_name = {}},
            kPageHeaders);
    return true;
  }
};

class ConsoleServerImpl final : public ConsoleServer {
 public:
  ConsoleServerImpl(broker::Broker& broker, const ConsoleApiOptions& api_options)
      : api_(broker, api_options), api_handler_(api_) {}

  ~ConsoleServerImpl() override {
    api_.Stop();
    server_.reset();  // waits for the handlers in flight
  }

  Status Listen(const ConsoleServerOptions& options) {
    const std::vector<std::string> civet_options = {
        "listening_ports", options.host + ":" + std::to_string(options.port), "num_threads",
        std::to_string(options.threads),
        // A read cursor names a position per shard it has moved; room for a few thousand.
        "max_request_size", std::to_string(256 * 1024)};
    try {
      server_ = std::make_unique<CivetServer>(civet_options);
    } catch (const std::exception& e) {  // civetweb reports a failed bind by throwing
      return Status(ErrorCode::kServiceUnavailable,
                    fmt::format("cannot listen on {}:{} for the web console: {}", options.host,
                                options.port, e.what()));
    }
    server_->addHandler("/api", api_handler_);  // and every path below it
    server_->addHandler("/", page_handler_);    // a prefix pattern: every other path
    const std::vector<int> ports = server_->getListeningPorts();
    port_ = ports.empty() ? 0 : ports.front();
    return Status();
  }

  int port() const override { return port_; }

 private:
  ConsoleApi api_;
  ApiHandler api_handler_;
  PageHandler page_handler_;
  std::unique_ptr<CivetServer> server_;  // after the handlers it calls
  int port_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(broker::Broker& broker,
                                                              ConsoleServerOptions options) {
  auto server = std::make_unique<ConsoleServerImpl>(broker, options.api);
  RIFFLE_RETURN_IF_ERROR(server->Listen(options));
  return std::unique_ptr<ConsoleServer>(std::move(server));
}

}  // namespace riffle::console
