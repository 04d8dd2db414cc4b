// Moves shards between nodes with their records (docs/cluster.md §7, in its first form: one
// copy per shard, so a move is a handover, not a replica change). Three roles, each driven by
// the cluster view and run on this node's mover thread:
//
//  controller  decides moves: every shard of a draining node, then one at a time from the most
//              to the least loaded node while they differ by more than one shard; it starts a
//              move by setting the assignment to (source, epoch + 1, moving_to = target), and
//              gives a move up (back to the source, epoch + 2) when the target has gone.
//  source      on seeing its shard moving, or closing for a reshard (ShardCloser): takes no
//              more writes for it, lets the writes already queued commit (on a majority of
//              its replicas, if it has several), and publishes the seal: the shard's end.
//  target      copies the records below the seal from the source, at their own offsets and
//              arrival times, syncs them, and takes the shard: (target, epoch + 1), guarded by
//              the assignment it saw, so a move the controller gave up cannot complete.
//
// The mover looks at the cluster when the view changes, and every half second in any case.
// It moves unreplicated shards only: a replicated shard's leadership passes to a follower
// (Elector) instead. A closing shard does not move.
//
// Writes to a moving shard are refused (ServiceUnavailable: retry) for the length of the copy;
// reads go on at the source. Thread-safe.
#pragma once

#include <condition_variable>
#include <map>
#include <set>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "server/broker/types.h"
#include "server/cluster/cluster_node.h"
#include "storage/store.h"

namespace riffle::cluster {

class PeerClient;

class ShardMover {
 public:
  // `peer_of` finds the client of a node (nullptr if it is down); `controller_round` runs
  // first on every round while this node is the controller.
  ShardMover(ClusterNode& node, storage::Store& store,
             std::function<std::shared_ptr<PeerClient>(const std::string&)> peer_of,
             std::function<void()> controller_round);
  ~ShardMover();

  // Makes the mover look at the cluster now (the view changed) instead of at its next round.
  void Poke();

  // Held shared by a local write from its ownership check until its records are queued, and
  // exclusively while a shard is sealed: no write slips in after the seal's end is taken.
  std::shared_mutex& write_gate() { return write_gate_; }
  // Whether this node may still write `shard` in `epoch` (not sealed for a move). Call with
  // write_gate() held.
  bool Writable(const broker::ShardRef& shard, uint64_t epoch) const;

 private:
  void Run();
  void Step();
  void SealAsSource(const broker::ShardRef& shard, const Assignment& assignment);
  void CopyAsTarget(const broker::ShardRef& shard, const Assignment& assignment,
                    const Seal& seal);
  Status Copy(const broker::ShardRef& shard, const Assignment& assignment, const Seal& seal);
  void Rebalance();
  bool StartMove(const broker::ShardRef& shard, const Assignment& assignment,
                 const std::string& target);

  ClusterNode& node_;
  storage::Store& store_;
  const std::function<std::shared_ptr<PeerClient>(const std::string&)> peer_of_;
  const std::function<void()> controller_round_;

  std::shared_mutex write_gate_;
  std::map<broker::ShardRef, uint64_t> sealed_;  // guarded by write_gate_; shard -> epoch
  // Seals this node has published, shard -> epoch. The mover thread's only.
  std::map<broker::ShardRef, uint64_t> published_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool poked_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace riffle::cluster
