// The controller's part in keeping every shard at the cluster's replication factor
// (docs/cluster.md §7, "grow RF"): a shard placed while fewer nodes were alive (a stream
// created on the first node of a cluster has one copy) gains copies as nodes join, one at a
// time, each first as a learner.
//
//   add      a live node without a copy (the one with the fewest) becomes the shard's learner:
//            its leader ships it the whole log, but it counts in no quorum and no election;
//   promote  once the leader reports the learner caught up (in its in-sync set), it becomes a
//            voter. One voter more at a time keeps every old majority inside every new one,
//            so nothing committed before the change can be missed by a later election.
//
// Both are compare-and-swaps on the assignment, guarded by the controller epoch, in the
// assignment's epoch. At most 64 shards fill at once, cluster-wide. A shard of one copy becomes a replicated shard whose only voter is its
// owner (which has every record it acknowledged) when its first learner is added.
//
// Not thread-safe: the mover thread runs Round on the controller.
#pragma once

#include "server/cluster/cluster_node.h"

namespace riffle::cluster {

class ReplicaPlanner {
 public:
  // Borrows `node`, which must outlive it.
  explicit ReplicaPlanner(ClusterNode& node) : node_(node) {}

  // One look at every shard: promotes caught-up learners, adds learners where copies are
  // missing.
  void Round();

 private:
  ClusterNode& node_;
};

}  // namespace riffle::cluster
