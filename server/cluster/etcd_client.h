// The cluster layer's only way to etcd, which holds a cluster's members, catalog and shard
// ownership: keys and values, compare-and-swap transactions, leases that delete a dead node's
// keys, and watches that tell every node what changed.
//
// It speaks etcd's v3 JSON gateway (HTTP/1.1 at /v3/...) rather than gRPC so that Riffle needs
// neither etcd's .proto files nor a second gRPC stack. Each call opens its own connection, so
// an EtcdClient is thread-safe and may be shared by any number of threads. A call tries the
// endpoints in turn, starting with the last one that answered, and moves on only when it
// cannot connect: a request that reached etcd is never sent twice, because etcd may have
// applied it. When no endpoint takes the connection, or the one that did fails or times out
// before it answers, the call returns ServiceUnavailable; etcd's own errors keep their meaning
// (ResourceNotFound for a missing lease, InvalidArgument for a compacted revision, ...).
//
// A Watch runs its own thread and calls back on it, one event at a time, in revision order.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"

namespace riffle::cluster {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;  // writes since the key was created; 0 for a key that does not exist
  int64_t lease = 0;    // 0: no lease
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // in key order
  int64_t revision = 0;       // the store's revision the read saw: watch from revision + 1
};

// One condition of a transaction, on one key. A key that does not exist has version, create
// and mod revision 0 and an empty value.
struct Compare {
  enum class Target { kValue, kVersion, kCreateRevision, kModRevision };
  enum class Result { kEqual, kNotEqual, kGreater, kLess };

  static Compare Value(std::string key, Result result, std::string value);
  static Compare Version(std::string key, Result result, int64_t version);
  static Compare CreateRevision(std::string key, Result result, int64_t revision);
  static Compare ModRevision(std::string key, Result result, int64_t revision);

  std::string key;
  Target target = Target::kValue;
  Result result = Result::kEqual;
  std::string value;   // for kValue
  int64_t number = 0;  // for the other targets
};

// One operation of a transaction.
struct Op {
  enum class Type { kPut, kDelete, kRange };

  static Op Put(std::string key, std::string value, int64_t lease = 0);
  static Op Delete(std::string key);
  static Op DeletePrefix(std::string prefix);
  static Op Get(std::string key);
  static Op GetPrefix(std::string prefix);

  Type type = Type::kRange;
  std::string key;
  std::string value;    // for kPut
  int64_t lease = 0;    // for kPut
  bool prefix = false;  // for kDelete and kRange: every key that starts with `key`
};

struct TxnResult {
  bool succeeded = false;  // whether every compare held, so the success ops ran
  int64_t revision = 0;    // the store's revision after the transaction
  // One per range op of the branch that ran, in order; puts and deletes have none.
  std::vector<std::vector<KeyValue>> ranges;
};

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // for kDelete only the key and mod_revision (the deletion's revision)
  int64_t revision = 0;
};

// One of etcd's client URLs, taken apart.
struct EtcdEndpoint {
  std::string url;        // as given, for messages
  std::string authority;  // host:port, for the Host header
  std::string host;       // without an IPv6 address's brackets
  std::string port;
};

namespace internal {
struct HttpConnection;
}  // namespace internal

class Watch;

class EtcdClient {
 public:
  // `endpoints` are "http://host:port". Fails with InvalidArgument for an endpoint it cannot
  // use and ServiceUnavailable, naming every endpoint, if none answers within `timeout`.
  // `timeout` bounds each attempt of each call (connect, request and reply) on one endpoint.
  static StatusOr<std::unique_ptr<EtcdClient>> Connect(std::vector<std::string> endpoints,
                                                       std::chrono::milliseconds timeout);
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // The revision of the write. `lease` 0 writes a key that outlives every lease; a lease that
  // does not exist (or expired) is ResourceNotFound.
  StatusOr<int64_t> Put(std::string_view key, std::string_view value, int64_t lease = 0);
  StatusOr<std::optional<KeyValue>> Get(std::string_view key);
  StatusOr<RangeResult> GetPrefix(std::string_view prefix);
  // How many keys were deleted.
  StatusOr<int64_t> Delete(std::string_view key);
  StatusOr<int64_t> DeletePrefix(std::string_view prefix);

  // Runs `success` if every compare holds, else `failure`, atomically.
  StatusOr<TxnResult> Txn(const std::vector<Compare>& compares, const std::vector<Op>& success,
                          const std::vector<Op>& failure = {});
  // Writes `key` only if its mod revision is `expected_mod_revision` (0: only if it does not
  // exist). Whether it wrote.
  StatusOr<bool> PutIfModRevision(std::string_view key, std::string_view value,
                                  int64_t expected_mod_revision, int64_t lease = 0);
  // Deletes `key` only if its mod revision is `expected_mod_revision`. Whether it deleted.
  StatusOr<bool> DeleteIfModRevision(std::string_view key, int64_t expected_mod_revision);

  // Forgets the history before `revision`, as etcd must now and then to stay small. A Watch
  // that needs what is gone gets on_compacted.
  Status Compact(int64_t revision);

  // A new lease's id. etcd may grant a longer TTL than asked (its minimum is 1.5 election
  // timeouts); read it with KeepAliveOnce.
  StatusOr<int64_t> GrantLease(std::chrono::seconds ttl);
  // Restarts the lease's TTL and returns it. ResourceNotFound once the lease expired or was
  // revoked: every key written under it is gone.
  StatusOr<std::chrono::seconds> KeepAliveOnce(int64_t lease);
  // Ends the lease now and deletes its keys. ResourceNotFound if it had already ended.
  Status RevokeLease(int64_t lease);

  // Watches every key that starts with `prefix`, from `start_revision` (0: from now on).
  // `on_compacted` (may be empty) is told when etcd no longer has the history the watch needs;
  // the watch then ends, and the caller reads the keys afresh and watches from there.
  std::unique_ptr<Watch> WatchPrefix(std::string prefix, int64_t start_revision,
                                     std::function<void(const WatchEvent&)> on_event,
                                     std::function<void(int64_t)> on_compacted = {});

 private:
  EtcdClient(std::vector<EtcdEndpoint> endpoints, std::chrono::milliseconds timeout)
      : endpoints_(std::move(endpoints)), timeout_(timeout) {}

  // POSTs `body` to `path`, failing over as the header comment describes, and returns the
  // reply's body once it holds no error.
  StatusOr<std::string> Call(std::string_view path, std::string body);

  const std::vector<EtcdEndpoint> endpoints_;
  const std::chrono::milliseconds timeout_;
  std::atomic<size_t> preferred_{0};  // the endpoint that answered last
};

// A watch over one streaming HTTP connection. After a lost connection it reconnects (trying
// every endpoint, backing off up to 2 s) and resumes after the last revision it delivered, so
// no event is missed or repeated. Callbacks run on the watch's thread and must not destroy or
// Stop their own Watch; they may call an EtcdClient.
class Watch {
 public:
  ~Watch();  // Stop()s
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  // Ends the watch and waits for its thread; no callback runs after it returns. Returns within
  // a few milliseconds unless a callback is running. Call it from the Watch's owner only.
  void Stop();

 private:
  friend class EtcdClient;
  enum class Next { kRead, kReconnect, kEnd };

  Watch(std::vector<EtcdEndpoint> endpoints, std::chrono::milliseconds timeout,
        std::string prefix, int64_t start_revision,
        std::function<void(const WatchEvent&)> on_event,
        std::function<void(int64_t)> on_compacted);
  bool Stopping();
  void Run();
  // Streams events from one endpoint until the connection breaks or the watch ends. `created`
  // tells whether etcd accepted the watch.
  Next Stream(const EtcdEndpoint& endpoint, bool& created);
  // Handles one message of the stream.
  Next Handle(const EtcdEndpoint& endpoint, std::string_view message, bool& created);

  const std::vector<EtcdEndpoint> endpoints_;
  const std::chrono::milliseconds timeout_;
  const std::string prefix_;
  const std::function<void(const WatchEvent&)> on_event_;
  const std::function<void(int64_t)> on_compacted_;
  int64_t next_revision_;  // 0 until etcd says where "now" is
  std::unique_ptr<internal::HttpConnection> connection_;
  std::mutex mu_;
  std::condition_variable stopping_cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace riffle::cluster
