// Closes shards for a reshard in a cluster (docs/cluster.md §7, "Seal"): the controller's
// broker asks it for the parents' ends before it writes the catalog that closes them.
//
//  controller  marks each parent's assignment `closing` (same epoch, guarded by the controller
//              epoch and the assignment's mod_revision), and waits for its leader's Seal of
//              that epoch: the end of the shard's committed records.
//  leader      (ShardMover::SealAsSource) on seeing `closing`: takes no more writes for the
//              shard, lets the queued ones commit, waits until a majority holds all of them
//              (a replicated shard), and publishes the Seal.
//
// Every node refuses writes to a closing shard (ServiceUnavailable: retry), so after the
// catalog change they go to its children. A `closing` mark no reshard of this controller is
// using any more (its catalog write done or failed, or a controller that died mid-way) is
// settled by ReopenAbandoned: cleared if the catalog closed the shard, else the shard is
// reopened in a new epoch, which lifts its leader's seal. A Seal whose shard was reopened
// belongs to an older epoch, so no reshard can close a shard at an end writes have passed.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "server/broker/shard_sealer.h"
#include "server/cluster/cluster_node.h"

namespace riffle::cluster {

class ShardCloser final : public broker::ShardSealer {
 public:
  // How long a reshard waits for its parents' leaders to seal them.
  static constexpr std::chrono::seconds kSealTimeout{10};

  // Borrows `node`, which must outlive it; guards the catalog changes it publishes.
  explicit ShardCloser(ClusterNode& node);

  StatusOr<std::vector<uint64_t>> Seal(uint64_t stream_id,
                                       const std::vector<uint32_t>& ordinals) override;
  void Release(uint64_t stream_id, const std::vector<uint32_t>& ordinals) override;

  // On the controller: settles every `closing` mark no reshard is using (see above).
  void ReopenAbandoned();

 private:
  using ShardKey = std::pair<uint64_t, uint32_t>;
  // Marks the shard closing unless it is already; false while it cannot be (no leader yet, a
  // move in progress) or the mark lost a race, to be tried again.
  bool MarkClosing(const ShardKey& shard, const Assignment& assignment);

  ClusterNode& node_;

  // The catalog write closing sealed shards (ClusterNode::PublishGuard): each one's assignment
  // must still be the one whose seal gave its end, or the shard may have been reopened since
  // (by a controller that took over meanwhile) and taken writes past that end.
  std::vector<Compare> StillSealed(const storage::CatalogChange& change);

  // Held by ReopenAbandoned throughout, and by Seal while it claims its shards: a shard is
  // either claimed before ReopenAbandoned looks, or reopened before Seal reads it.
  std::mutex mu_;
  std::set<ShardKey> claimed_;  // guarded by mu_; shards a running reshard is sealing

  // Never held while calling out: Publish asks StillSealed under the node's catalog lock.
  std::mutex sealed_mu_;
  // Claimed shards whose seal was found, with the mod_revision of the assignment it was found
  // with. Guarded by sealed_mu_.
  std::map<ShardKey, int64_t> sealed_revisions_;
};

}  // namespace riffle::cluster
