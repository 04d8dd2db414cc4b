#include "server/cluster/etcd_wire.h"

#include <openssl/evp.h>

#include <charconv>

namespace riffle::cluster::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using element = simdjson::dom::element;

namespace {

ErrorCode FromGrpcCode(int64_t code) {
  switch (code) {
    case 3: case 11: return ErrorCode::kInvalidArgument;  // 11 OutOfRange: a compacted revision
    case 5: return ErrorCode::kResourceNotFound;
    case 7: case 16: return ErrorCode::kAccessDenied;
    case 8: return ErrorCode::kLimitExceeded;
    case 4: case 14: return ErrorCode::kServiceUnavailable;  // e.g. "no leader", "timed out"
    default: return ErrorCode::kInternalFailure;
  }
}

}  // namespace

// Resolving is synchronous and outside `timeout`, since asio cannot cancel getaddrinfo; etcd
// endpoints are addresses in practice.
beast::error_code Open(HttpConnection& connection, const EtcdEndpoint& endpoint,
                       std::chrono::milliseconds timeout) {
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(connection.io);
  const auto addresses = resolver.resolve(endpoint.host, endpoint.port, ec);
  if (ec) {
    return ec;
  }
  connection.stream.expires_after(timeout);
  return Await(connection.io, [&](auto done) {
    connection.stream.async_connect(addresses, std::move(done));
  });
}

http::request<http::string_body> Request(const EtcdEndpoint& endpoint, std::string_view path,
                                         std::string body) {
  http::request<http::string_body> request(http::verb::post, path, 11);
  request.set(http::field::host, endpoint.authority);
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

StatusOr<std::string> Exchange(HttpConnection& connection, const EtcdEndpoint& endpoint,
                               std::string_view path, std::string body) {
  http::request<http::string_body> request = Request(endpoint, path, std::move(body));
  request.keep_alive(false);  // each call's connection serves one request
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // etcd is trusted, and a big prefix's range exceeds 8 MiB
  beast::error_code ec = Await(connection.io, [&](auto done) {
    http::async_write(connection.stream, request, std::move(done));
  });
  if (!ec) {
    ec = Await(connection.io, [&](auto done) {
      http::async_read(connection.stream, connection.buffer, parser, std::move(done));
    });
  }
  if (ec) {
    return Status(ErrorCode::kServiceUnavailable,
                  "etcd at " + endpoint.url + " did not answer " + std::string(path) + " (" +
                      ec.message() + "); it may or may not have carried it out");
  }
  http::response<http::string_body> response = parser.release();
  Reply reply(response.body());
  if (std::optional<Status> error = reply.Error(endpoint)) {
    return *error;
  }
  if (response.result() != http::status::ok || !reply.ok()) {
    return Status(ErrorCode::kInternalFailure,
                  "etcd at " + endpoint.url + " answered " + std::string(path) + " with HTTP " +
                      std::to_string(response.result_int()) + " and a body Riffle cannot read: " +
                      response.body().substr(0, 200));
  }
  return std::move(response.body());
}

StatusOr<EtcdEndpoint> ParseEndpoint(const std::string& url) {
  std::string_view rest = url;
  const bool plain = rest.starts_with("http://");
  rest.remove_prefix(plain ? 7 : 0);
  rest = rest.ends_with('/') ? rest.substr(0, rest.size() - 1) : rest;
  const size_t colon = rest.rfind(':');
  std::string_view host = rest.substr(0, colon == std::string_view::npos ? 0 : colon);
  const std::string_view port = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
  if (host.starts_with('[') && host.ends_with(']')) {
    host = host.substr(1, host.size() - 2);  // an IPv6 address
  }
  if (!plain || host.empty() || port.empty() || rest.find('/') != std::string_view::npos ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return Status(ErrorCode::kInvalidArgument,
                  "etcd endpoint '" + url + "' is not http://host:port (Riffle talks to etcd "
                  "over plain HTTP)");
  }
  return EtcdEndpoint{url, std::string(rest), std::string(host), std::string(port)};
}

std::string Base64(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');  // + 1: EVP_EncodeBlock's NUL
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

std::optional<std::string> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the zero bytes that padding stands for.
  const size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  out.resize(static_cast<size_t>(length) - padding);
  return out;
}

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }
std::string Quoted(int64_t number) { return Quoted(std::to_string(number)); }

std::string KeyFields(std::string_view key, bool prefix) {
  if (!prefix) {
    return "\"key\":" + Quoted(Base64(key));
  }
  std::string end(key);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) {
    end.pop_back();
  }
  if (end.empty()) {
    end.push_back('\0');  // etcd's "no upper bound"
  } else {
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  }
  // etcd refuses an empty key; "\0" is the first key there can be.
  const std::string from = key.empty() ? std::string(1, '\0') : std::string(key);
  return "\"key\":" + Quoted(Base64(from)) + ",\"range_end\":" + Quoted(Base64(end));
}

std::string PutFields(std::string_view key, std::string_view value, int64_t lease) {
  return KeyFields(key, false) + ",\"value\":" + Quoted(Base64(value)) +
         ",\"lease\":" + Quoted(lease);
}

std::string OpJson(const Op& op) {
  switch (op.type) {
    case Op::Type::kPut: return "{\"request_put\":{" + PutFields(op.key, op.value, op.lease) + "}}";
    case Op::Type::kDelete:
      return "{\"request_delete_range\":{" + KeyFields(op.key, op.prefix) + "}}";
    case Op::Type::kRange: return "{\"request_range\":{" + KeyFields(op.key, op.prefix) + "}}";
  }
  return {};
}

std::string CompareJson(const Compare& compare) {
  static constexpr std::string_view kResults[] = {"EQUAL", "NOT_EQUAL", "GREATER", "LESS"};
  std::string json = "{" + KeyFields(compare.key, false) + ",\"result\":" +
                     Quoted(kResults[static_cast<int>(compare.result)]) + ",\"target\":";
  switch (compare.target) {
    case Compare::Target::kValue:
      return json + "\"VALUE\",\"value\":" + Quoted(Base64(compare.value)) + "}";
    case Compare::Target::kVersion:
      return json + "\"VERSION\",\"version\":" + Quoted(compare.number) + "}";
    case Compare::Target::kCreateRevision:
      return json + "\"CREATE\",\"create_revision\":" + Quoted(compare.number) + "}";
    case Compare::Target::kModRevision:
      return json + "\"MOD\",\"mod_revision\":" + Quoted(compare.number) + "}";
  }
  return json;
}

Reply::Reply(std::string_view json) {
  if (auto error = parser_.parse(json.data(), json.size()).get(root_); error) {
    problem_ = simdjson::error_message(error);
  }
}

std::optional<element> Reply::Member(element object, std::string_view name) const {
  element value;
  if (!ok() || object.at_key(name).get(value) != simdjson::SUCCESS || value.is_null()) {
    return std::nullopt;
  }
  return value;
}

int64_t Reply::Int(element object, std::string_view name) {
  std::optional<element> value = Member(object, name);
  int64_t number = 0;
  std::string_view text;
  if (!value || value->get(number) == simdjson::SUCCESS) {
    return number;
  }
  if (value->get(text) == simdjson::SUCCESS) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && end == text.data() + text.size()) {
      return number;
    }
  }
  Fail(name);
  return 0;
}

std::string Reply::String(element object, std::string_view name) {
  std::optional<element> value = Member(object, name);
  std::string_view text;
  if (value && value->get(text) != simdjson::SUCCESS) {
    Fail(name);
  }
  return std::string(text);
}

std::string Reply::Bytes(element object, std::string_view name) {
  std::optional<std::string> bytes = FromBase64(String(object, name));
  if (!bytes) {
    Fail(name);
  }
  return bytes.value_or("");
}

bool Reply::Bool(element object, std::string_view name) {
  std::optional<element> value = Member(object, name);
  bool flag = false;
  if (value && value->get(flag) != simdjson::SUCCESS) {
    Fail(name);
  }
  return flag;
}

std::vector<element> Reply::List(element object, std::string_view name) {
  std::optional<element> value = Member(object, name);
  simdjson::dom::array array;
  if (!value) {
    return {};
  }
  if (value->get(array) != simdjson::SUCCESS) {
    Fail(name);
    return {};
  }
  return std::vector<element>(array.begin(), array.end());
}

KeyValue Reply::Kv(element kv) {
  return KeyValue{.key = Bytes(kv, "key"),
                  .value = Bytes(kv, "value"),
                  .create_revision = Int(kv, "create_revision"),
                  .mod_revision = Int(kv, "mod_revision"),
                  .version = Int(kv, "version"),
                  .lease = Int(kv, "lease")};
}

std::vector<KeyValue> Reply::Kvs(element range) {
  std::vector<KeyValue> kvs;
  for (element kv : List(range, "kvs")) {
    kvs.push_back(Kv(kv));
  }
  return kvs;
}

int64_t Reply::Revision(element response) {
  std::optional<element> header = Member(response, "header");
  return header ? Int(*header, "revision") : 0;
}

std::optional<Status> Reply::Error(const EtcdEndpoint& endpoint) {
  std::optional<element> error = Member(root_, "error");
  if (!error) {
    return std::nullopt;
  }
  element details = error->is_object() ? *error : root_;
  const int64_t code =
      Member(details, "grpc_code") ? Int(details, "grpc_code") : Int(details, "code");
  return Status(FromGrpcCode(code), "etcd at " + endpoint.url + ": " + String(details, "message"));
}

void Reply::Fail(std::string_view name) {
  if (ok()) {
    problem_ = "member \"" + std::string(name) + "\" is malformed";
  }
}

}  // namespace riffle::cluster::internal
