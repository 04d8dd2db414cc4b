// The leader side of replication (docs/cluster.md §5.2-5.5): for every replicated shard this
// node leads, ships its durable entries to each follower (Append calls to each follower node,
// two in flight, each carrying every shard that has something for it, so whatever accumulated
// meanwhile goes in the next one), computes the high watermark from the
// followers' synced ends, and moves the shard's committed end with it, which answers the writes
// waiting in the commit pipeline and wakes readers.
//
//   HW = the largest h that a majority of the shard's replicas, the leader included, hold
//        durably, provided the entry at h - 1 belongs to the leader's own epoch.
//
// The second clause is Raft's: a new leader never commits an inherited tail by counting
// copies. It opens its epoch with a marker (a hole at its end), so the inherited tail commits
// with the marker, within one round trip.
//
// Which shards this node leads comes from the cluster view (Reconcile); when it stops leading
// one (a newer epoch, a fence from a follower, its lease lapsed), the writes still waiting fail
// with InternalFailure: their outcome is unknown. A write waiting more than 5 s fails the same
// way. While fewer than a majority of replicas have answered within 2 s, the shard refuses new
// writes (Writable) with ServiceUnavailable, saying how many replicas are in sync.
//
// One thread drives everything; gRPC completions are queued to it. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "riffle/cluster/v1/replication.grpc.pb.h"
#include "server/cluster/cluster_view.h"
#include "server/cluster/follower.h"
#include "server/cluster/replication_stubs.h"
#include "storage/store.h"

namespace riffle::cluster {

class ClusterNode;

struct ShardReplication {
  uint64_t epoch = 0;
  uint64_t high_watermark = 0;
  uint64_t durable_end = 0;
  size_t voters = 0;  // the leader included
  struct Replica {
    std::string node_id;
    uint64_t acked_end = 0;
    bool in_sync = false;  // a voter that answered lately
    bool learner = false;
  };
  std::vector<Replica> followers;  // voters, then learners
};

class Replicator {
 public:
  Replicator(ClusterNode& node, storage::Store& store, Follower& follower);
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // The view changed: look at which shards this node leads now.
  void Poke();
  // OK if this node may take a write for the shard now (it leads it in `epoch`, has opened the
  // epoch, and a majority of replicas is in sync); else ServiceUnavailable saying why.
  Status Writable(uint64_t stream_id, uint32_t ordinal, uint64_t epoch) const;
  // Whether this node has taken over the shard as its leader in `epoch`: until it has, its
  // copy may hold an uncommitted tail that readers must not see.
  bool Leads(uint64_t stream_id, uint32_t ordinal, uint64_t epoch) const;
  // What this node knows of a shard it leads.
  std::optional<ShardReplication> Describe(uint64_t stream_id, uint32_t ordinal) const;

 private:
  using ShardKey = std::pair<uint64_t, uint32_t>;
  using Clock = std::chrono::steady_clock;
  struct FollowerProgress;
  struct Leadership;
  struct Completion;

  void Run();
  void Round();
  void Reconcile();
  void Lead(const ShardKey& shard, const Assignment& assignment);
  // Makes the leadership's followers the assignment's other voters and its learners, keeping
  // what it knows of those it had; new ones are sent entries from `from` on.
  void SetFollowers(Leadership& leadership, const Assignment& assignment, uint64_t from);
  void StopLeading(const ShardKey& shard, const std::string& why);
  // Calls to a follower node (two at a time), each carrying an Append for every shard it
  // follows that has entries to ship or is due a heartbeat.
  struct Link {
    int in_flight = 0;
    Clock::time_point retry_at{};
  };
  void SendBatch(const std::string& node_id, Link& link);
  // Adds the shard's next Append for `follower` to `batch`; returns the bytes of data in it.
  StatusOr<uint64_t> AddAppend(const ShardKey& shard, const Leadership& leadership,
                               const FollowerProgress& follower, v1::AppendBatch& batch);
  void Handle(const Completion& completion);
  // The follower of a shard this node leads in `epoch`; null once that leadership is over.
  FollowerProgress* FindFollower(const ShardKey& shard, uint64_t epoch,
                                 const std::string& node_id);
  void HandleOne(const ShardKey& shard, uint64_t epoch, const std::string& node_id,
                 const v1::AppendResponse& response);
  void Advance(const ShardKey& shard, Leadership& leadership);
  // Writes the shard's in-sync set to etcd (docs/cluster.md §3), guarded by the assignment this
  // leadership was granted, so a deposed leader's report fails.
  void PublishInSync(const ShardKey& shard, Leadership& leadership,
                     const std::vector<std::string>& in_sync);

  ClusterNode& node_;
  storage::Store& store_;
  Follower& follower_;

  // Touched by the replicator thread only.
  std::map<ShardKey, std::unique_ptr<Leadership>> leading_;
  ReplicationStubs stubs_;
  std::map<std::string, Link> links_;  // by follower node id
  Clock::time_point last_reconcile_{};

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool poked_ = false;                                  // guarded by mu_
  bool reconcile_ = true;                               // guarded by mu_
  bool stopping_ = false;                               // guarded by mu_
  int in_flight_ = 0;                                   // guarded by mu_
  std::vector<Completion> completions_;                 // guarded by mu_
  std::map<ShardKey, Status> writable_;                 // guarded by mu_; by epoch below
  std::map<ShardKey, uint64_t> writable_epoch_;         // guarded by mu_
  std::map<ShardKey, ShardReplication> described_;      // guarded by mu_
  std::thread thread_;
};

}  // namespace riffle::cluster
