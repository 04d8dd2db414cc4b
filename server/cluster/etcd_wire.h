// How riffle_etcd talks to etcd's JSON gateway, shared by EtcdClient and Watch: the JSON it
// writes and reads, and one HTTP exchange with timeouts. Internal to riffle_etcd.
#pragma once

#include <simdjson.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/cluster/etcd_client.h"

namespace riffle::cluster::internal {

// Its own io_context makes each connection independent of every other call and thread.
struct HttpConnection {
  boost::asio::io_context io{1};
  boost::beast::tcp_stream stream{io};
  boost::beast::flat_buffer buffer;
};

// Starts one asynchronous operation on `io` and runs it to completion. Timeouts come from the
// tcp_stream's expiry, and a Watch's Stop from a handler posted to `io`.
template <typename Start>
boost::beast::error_code Await(boost::asio::io_context& io, Start&& start) {
  boost::beast::error_code result;
  start([&result](boost::beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

// Connects with `timeout` as the deadline of everything until the stream's expiry changes.
boost::beast::error_code Open(HttpConnection& connection, const EtcdEndpoint& endpoint,
                              std::chrono::milliseconds timeout);

boost::beast::http::request<boost::beast::http::string_body> Request(
    const EtcdEndpoint& endpoint, std::string_view path, std::string body);

// Sends one request on a connection Open made and returns the reply's body once it holds no
// error. Every failure after connecting is ServiceUnavailable that says the request may have
// been carried out.
StatusOr<std::string> Exchange(HttpConnection& connection, const EtcdEndpoint& endpoint,
                               std::string_view path, std::string body);

StatusOr<EtcdEndpoint> ParseEndpoint(const std::string& url);

std::string Base64(std::string_view bytes);
std::optional<std::string> FromBase64(std::string_view text);
// A JSON string of text that needs no escaping: base64 or digits.
std::string Quoted(std::string_view text);
std::string Quoted(int64_t number);
// `"key":…` and, for a prefix, the range_end that selects every key that starts with it.
std::string KeyFields(std::string_view key, bool prefix);
std::string PutFields(std::string_view key, std::string_view value, int64_t lease);
std::string OpJson(const Op& op);
std::string CompareJson(const Compare& compare);

// A reply as etcd's gateway writes it: int64s as strings, bytes as base64, and members at their
// default (0, "", false, []) left out. Remembers the first thing it could not read.
class Reply {
 public:
  using element = simdjson::dom::element;

  explicit Reply(std::string_view json);
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }
  element root() const { return root_; }

  std::optional<element> Member(element object, std::string_view name) const;
  int64_t Int(element object, std::string_view name);
  std::string String(element object, std::string_view name);
  std::string Bytes(element object, std::string_view name);
  bool Bool(element object, std::string_view name);
  std::vector<element> List(element object, std::string_view name);
  KeyValue Kv(element kv);
  std::vector<KeyValue> Kvs(element range);
  int64_t Revision(element response);  // the response header's
  // The error the reply reports as `{"error":…}` (etcd's streams nest an object there).
  std::optional<Status> Error(const EtcdEndpoint& endpoint);

 private:
  void Fail(std::string_view name);

  simdjson::dom::parser parser_;
  element root_;
  std::string problem_;
};

// What `read` takes from a reply Exchange accepted, unless a member it read is malformed.
template <typename Read>
auto Parse(const std::string& body, Read read)
    -> StatusOr<decltype(read(std::declval<Reply&>()))> {
  Reply reply(body);
  auto value = read(reply);
  if (!reply.ok()) {
    return Status(ErrorCode::kInternalFailure, "etcd sent a reply Riffle cannot read (" +
                                                   reply.problem() + "): " + body.substr(0, 200));
  }
  return value;
}

}  // namespace riffle::cluster::internal
