#include "server/cluster/etcd_client.h"

#include "server/cluster/etcd_wire.h"

namespace riffle::cluster {
namespace {

using internal::CompareJson;
using internal::KeyFields;
using internal::OpJson;
using internal::Parse;
using internal::PutFields;
using internal::Quoted;
using internal::Reply;
using element = simdjson::dom::element;

template <typename Item, typename ToJson>
std::string JsonList(const std::vector<Item>& items, ToJson to_json) {
  std::string json = "[";
  for (const Item& item : items) {
    if (json.size() > 1) {
      json += ',';
    }
    json += to_json(item);
  }
  return json + "]";
}

}  // namespace

Compare Compare::Value(std::string key, Result result, std::string value) {
  return Compare{std::move(key), Target::kValue, result, std::move(value), 0};
}
Compare Compare::Version(std::string key, Result result, int64_t version) {
  return Compare{std::move(key), Target::kVersion, result, {}, version};
}
Compare Compare::CreateRevision(std::string key, Result result, int64_t revision) {
  return Compare{std::move(key), Target::kCreateRevision, result, {}, revision};
}
Compare Compare::ModRevision(std::string key, Result result, int64_t revision) {
  return Compare{std::move(key), Target::kModRevision, result, {}, revision};
}

Op Op::Put(std::string key, std::string value, int64_t lease) {
  return Op{Type::kPut, std::move(key), std::move(value), lease, false};
}
Op Op::Delete(std::string key) { return Op{Type::kDelete, std::move(key), {}, 0, false}; }
Op Op::DeletePrefix(std::string prefix) {
  return Op{Type::kDelete, std::move(prefix), {}, 0, true};
}
Op Op::Get(std::string key) { return Op{Type::kRange, std::move(key), {}, 0, false}; }
Op Op::GetPrefix(std::string prefix) { return Op{Type::kRange, std::move(prefix), {}, 0, true}; }

StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Connect(std::vector<std::string> endpoints,
                                                          std::chrono::milliseconds timeout) {
  if (endpoints.empty()) {
    return Status(ErrorCode::kInvalidArgument, "no etcd endpoint given");
  }
  std::vector<EtcdEndpoint> parsed;
  for (const std::string& url : endpoints) {
    RIFFLE_ASSIGN_OR_RETURN(EtcdEndpoint endpoint, internal::ParseEndpoint(url));
    parsed.push_back(std::move(endpoint));
  }
  std::unique_ptr<EtcdClient> client(new EtcdClient(std::move(parsed), timeout));
  RIFFLE_RETURN_IF_ERROR(client->Call("/v3/maintenance/status", "{}").status());
  return client;
}

StatusOr<std::string> EtcdClient::Call(std::string_view path, std::string body) {
  std::string failures;
  const size_t first = preferred_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const size_t index = (first + i) % endpoints_.size();
    internal::HttpConnection connection;
    if (boost::beast::error_code ec = internal::Open(connection, endpoints_[index], timeout_)) {
      failures += failures.empty() ? "" : ", ";
      failures += endpoints_[index].url + " (" + ec.message() + ")";
      continue;
    }
    preferred_.store(index, std::memory_order_relaxed);
    return internal::Exchange(connection, endpoints_[index], path, std::move(body));
  }
  return Status(ErrorCode::kServiceUnavailable, "etcd is unreachable: " + failures);
}

StatusOr<int64_t> EtcdClient::Put(std::string_view key, std::string_view value, int64_t lease) {
  RIFFLE_ASSIGN_OR_RETURN(std::string body,
                          Call("/v3/kv/put", "{" + PutFields(key, value, lease) + "}"));
  return Parse(body, [](Reply& reply) { return reply.Revision(reply.root()); });
}

StatusOr<std::optional<KeyValue>> EtcdClient::Get(std::string_view key) {
  RIFFLE_ASSIGN_OR_RETURN(std::string body,
                          Call("/v3/kv/range", "{" + KeyFields(key, false) + "}"));
  return Parse(body, [](Reply& reply) {
    std::vector<KeyValue> kvs = reply.Kvs(reply.root());
    return kvs.empty() ? std::nullopt : std::optional<KeyValue>(std::move(kvs.front()));
  });
}

StatusOr<RangeResult> EtcdClient::GetPrefix(std::string_view prefix) {
  RIFFLE_ASSIGN_OR_RETURN(std::string body,
                          Call("/v3/kv/range", "{" + KeyFields(prefix, true) + "}"));
  return Parse(body, [](Reply& reply) {
    return RangeResult{reply.Kvs(reply.root()), reply.Revision(reply.root())};
  });
}

StatusOr<int64_t> EtcdClient::Delete(std::string_view key) {
  RIFFLE_ASSIGN_OR_RETURN(std::string body,
                          Call("/v3/kv/deleterange", "{" + KeyFields(key, false) + "}"));
  return Parse(body, [](Reply& reply) { return reply.Int(reply.root(), "deleted"); });
}

StatusOr<int64_t> EtcdClient::DeletePrefix(std::string_view prefix) {
  RIFFLE_ASSIGN_OR_RETURN(std::string body,
                          Call("/v3/kv/deleterange", "{" + KeyFields(prefix, true) + "}"));
  return Parse(body, [](Reply& reply) { return reply.Int(reply.root(), "deleted"); });
}

StatusOr<TxnResult> EtcdClient::Txn(const std::vector<Compare>& compares,
                                    const std::vector<Op>& success,
                                    const std::vector<Op>& failure) {
  RIFFLE_ASSIGN_OR_RETURN(
      std::string body,
      Call("/v3/kv/txn", "{\"compare\":" + JsonList(compares, CompareJson) +
                             ",\"success\":" + JsonList(success, OpJson) +
                             ",\"failure\":" + JsonList(failure, OpJson) + "}"));
  return Parse(body, [](Reply& reply) {
    TxnResult result{reply.Bool(reply.root(), "succeeded"), reply.Revision(reply.root()), {}};
    for (element response : reply.List(reply.root(), "responses")) {
      if (std::optional<element> range = reply.Member(response, "response_range")) {
        result.ranges.push_back(reply.Kvs(*range));
      }
    }
    return result;
  });
}

StatusOr<bool> EtcdClient::PutIfModRevision(std::string_view key, std::string_view value,
                                            int64_t expected_mod_revision, int64_t lease) {
  // A key that does not exist has mod revision 0, so one compare covers both cases.
  RIFFLE_ASSIGN_OR_RETURN(
      TxnResult result,
      Txn({Compare::ModRevision(std::string(key), Compare::Result::kEqual, expected_mod_revision)},
          {Op::Put(std::string(key), std::string(value), lease)}));
  return result.succeeded;
}

StatusOr<bool> EtcdClient::DeleteIfModRevision(std::string_view key,
                                               int64_t expected_mod_revision) {
  RIFFLE_ASSIGN_OR_RETURN(
      TxnResult result,
      Txn({Compare::ModRevision(std::string(key), Compare::Result::kEqual, expected_mod_revision)},
          {Op::Delete(std::string(key))}));
  return result.succeeded;
}

Status EtcdClient::Compact(int64_t revision) {
  return Call("/v3/kv/compaction", "{\"revision\":" + Quoted(revision) + "}").status();
}

StatusOr<int64_t> EtcdClient::GrantLease(std::chrono::seconds ttl) {
  RIFFLE_ASSIGN_OR_RETURN(std::string body,
                          Call("/v3/lease/grant", "{\"TTL\":" + Quoted(ttl.count()) + "}"));
  return Parse(body, [](Reply& reply) { return reply.Int(reply.root(), "ID"); });
}

StatusOr<std::chrono::seconds> EtcdClient::KeepAliveOnce(int64_t lease) {
  RIFFLE_ASSIGN_OR_RETURN(std::string body,
                          Call("/v3/lease/keepalive", "{\"ID\":" + Quoted(lease) + "}"));
  RIFFLE_ASSIGN_OR_RETURN(const int64_t ttl, Parse(body, [](Reply& reply) {
    std::optional<element> result = reply.Member(reply.root(), "result");
    return result ? reply.Int(*result, "TTL") : 0;
  }));
  if (ttl <= 0) {
    return Status(ErrorCode::kResourceNotFound,
                  "etcd lease " + std::to_string(lease) + " expired or was revoked");
  }
  return std::chrono::seconds(ttl);
}

Status EtcdClient::RevokeLease(int64_t lease) {
  return Call("/v3/lease/revoke", "{\"ID\":" + Quoted(lease) + "}").status();
}

std::unique_ptr<Watch> EtcdClient::WatchPrefix(std::string prefix, int64_t start_revision,
                                               std::function<void(const WatchEvent&)> on_event,
                                               std::function<void(int64_t)> on_compacted) {
  return std::unique_ptr<Watch>(new Watch(endpoints_, timeout_, std::move(prefix), start_revision,
                                          std::move(on_event), std::move(on_compacted)));
}

}  // namespace riffle::cluster
