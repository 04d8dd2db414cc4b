// Every node's copy of the cluster's state in etcd: members, the controller, shard assignments
// and the catalog, loaded once and then kept current by one watch over the cluster's prefix.
// Catalog changes are handed to `on_catalog` in revision order; every change to members, the
// controller or assignments calls `on_topology`. Both run on the watch thread.
//
// Thread-safe: the maps are guarded by mu_ and only copied out.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/cluster/etcd_client.h"
#include "storage/catalog_change.h"

namespace riffle::cluster {

struct Member {
  std::string node_id;
  std::string grpc_addr;
  std::string kinesis_addr;
  int64_t incarnation = 0;
  bool draining = false;  // leaving: its shards move to the other nodes first
};

// Who serves a shard, and since which change of owner. While `moving_to` is set the owner
// takes no writes (it serves reads) and the shard's records are copied to that node.
// A replicated shard (docs/cluster.md §5) lists its `replicas`, the leader among them; while
// the controller elects a new leader, `node_id` is empty.
struct Assignment {
  std::string node_id;
  uint64_t epoch = 0;
  std::string moving_to;
  // A reshard is closing the shard: its leader takes no more writes and publishes its end as a
  // Seal of this epoch. Cleared once the catalog has closed it (or reopened it, a new epoch).
  bool closing = false;
  std::vector<std::string> replicas;  // voters; empty: one copy, on node_id
  // Nodes being filled with a copy (ReplicaPlanner): the leader ships them its log, but they
  // count in no quorum and no election until they become voters.
  std::vector<std::string> learners;
  // The copies its stream asked for at creation; 0: the cluster's --replication-factor.
  size_t replication_factor = 0;
  int64_t mod_revision = 0;  // the guard for the next change of this key

  // Led by the replication protocol: several voters, or learners being filled.
  bool replicated() const { return replicas.size() > 1 || !learners.empty(); }
  // The copies that count: one for a shard of one copy (it may have learners).
  size_t voters() const { return replicas.empty() ? 1 : replicas.size(); }
};

// Which replicas of a shard its leader counts as in sync, as it last published (in its epoch).
struct InSync {
  uint64_t epoch = 0;
  std::vector<std::string> replicas;  // the leader first
  int64_t mod_revision = 0;           // when it was written
};

// A moving or closing shard's leader has stopped writing it at `end` (in the assignment's
// epoch).
struct Seal {
  uint64_t end = 0;
  uint64_t epoch = 0;
};

// The etcd key suffixes of the layout in docs/cluster.md §3.
std::string CatalogKey(std::string_view catalog_key);  // "catalog/<key>"
std::string AssignmentKey(uint64_t stream_id, uint32_t ordinal);
std::string StreamAssignmentsPrefix(uint64_t stream_id);  // every shard of one stream
std::string EncodeAssignment(const Assignment& assignment);
std::string SealKey(uint64_t stream_id, uint32_t ordinal);
std::string StreamSealsPrefix(uint64_t stream_id);  // every shard of one stream
std::string InSyncKey(uint64_t stream_id, uint32_t ordinal);
std::string StreamInSyncPrefix(uint64_t stream_id);  // every shard of one stream
std::string EncodeInSync(const InSync& in_sync);
std::string EncodeSeal(const Seal& seal);

class ClusterView {
 public:
  // Reads every key under `prefix` and watches from there. `initial_catalog` receives the
  // catalog as it was at that revision, before any on_catalog call.
  static StatusOr<std::unique_ptr<ClusterView>> Start(
      EtcdClient& etcd, std::string prefix, storage::CatalogChange& initial_catalog,
      std::function<void(const storage::CatalogChange&, int64_t revision)> on_catalog,
      std::function<void()> on_topology);
  ~ClusterView();

  std::vector<Member> Members() const;
  std::optional<Member> FindMember(const std::string& node_id) const;
  std::optional<std::string> Controller() const;
  std::optional<Assignment> AssignmentOf(uint64_t stream_id, uint32_t ordinal) const;
  std::map<std::pair<uint64_t, uint32_t>, Assignment> Assignments() const;
  std::optional<Seal> SealOf(uint64_t stream_id, uint32_t ordinal) const;
  std::optional<InSync> InSyncOf(uint64_t stream_id, uint32_t ordinal) const;
  // The etcd revision the view has applied.
  int64_t revision() const;
  // Waits until the view has applied `revision`; false after `timeout`.
  bool WaitFor(int64_t revision, std::chrono::milliseconds timeout) const;

 private:
  ClusterView(std::string prefix,
              std::function<void(const storage::CatalogChange&, int64_t)> on_catalog,
              std::function<void()> on_topology);
  // Applies one key's new value (nullopt: deleted); returns whether the topology changed.
  bool ApplyLocked(std::string_view suffix, const std::optional<std::string>& value,
                   int64_t mod_revision, storage::CatalogChange& catalog);
  void OnEvent(const WatchEvent& event);

  const std::string prefix_;
  const std::function<void(const storage::CatalogChange&, int64_t)> on_catalog_;
  const std::function<void()> on_topology_;

  mutable std::mutex mu_;
  mutable std::condition_variable advanced_;
  std::map<std::string, Member> members_;                              // guarded by mu_
  std::optional<std::string> controller_;                              // guarded by mu_
  std::map<std::pair<uint64_t, uint32_t>, Assignment> assignments_;   // guarded by mu_
  std::map<std::pair<uint64_t, uint32_t>, Seal> seals_;               // guarded by mu_
  std::map<std::pair<uint64_t, uint32_t>, InSync> in_sync_;           // guarded by mu_
  int64_t revision_ = 0;                                               // guarded by mu_
  std::unique_ptr<Watch> watch_;
};

}  // namespace riffle::cluster
