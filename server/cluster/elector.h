// The controller's part in failover (docs/cluster.md §6): elects a new leader for every
// replicated shard whose leader is not a live member (its lease expired, it left, or an
// election was interrupted).
//
// An election of a shard at epoch e:
//   1. reserve: the assignment becomes (no leader, epoch e + 1), guarded by its mod_revision
//      and the controller epoch, so two controllers never issue one epoch;
//   2. fence: every live replica promises to refuse epochs below e + 1 and says how far its log
//      goes; a majority of the replicas must answer, or the shard waits (retried each round);
//   3. choose the most up-to-date log, by (epoch of its last entry, end): it holds every
//      committed entry, because a committed entry is on a majority, every majority meets the
//      fenced one, and logs that agree on an entry's epoch agree below it;
//   4. publish (leader, epoch e + 1), guarded by the reserved assignment's mod_revision.
//
// Runs on its own thread, only while this node is the controller. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "server/cluster/cluster_node.h"
#include "server/cluster/replication_stubs.h"

namespace riffle::cluster {

class Elector {
 public:
  explicit Elector(ClusterNode& node);
  ~Elector();
  Elector(const Elector&) = delete;
  Elector& operator=(const Elector&) = delete;

  // The view changed: look for leaderless shards now.
  void Poke();
  // Leaders this node has elected since it started.
  int64_t elections() const { return elections_.load(); }

 private:
  void Run();
  void Round();
  void Elect(uint64_t stream_id, uint32_t ordinal, const Assignment& assignment);

  ClusterNode& node_;
  ReplicationStubs stubs_;  // the elector thread's

  std::mutex mu_;
  std::condition_variable wake_;
  bool poked_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::atomic<int64_t> elections_{0};
  std::thread thread_;
};

}  // namespace riffle::cluster
