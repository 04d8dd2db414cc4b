// The replica side of replication (docs/cluster.md §5.3-5.4): applies a leader's Append to
// this node's copy of a shard, and answers the controller's Fence. Both go through one
// instance per node, serialized by its lock, and each answer is given only after what it
// promises is synced to disk: an acknowledged end is durable, a fence survives a crash.
//
// An Append is applied as Raft applies AppendEntries, by epochs instead of terms: the entries
// below the first offset where this replica's epoch history and the leader's disagree are the
// same on both and stay; anything from there on is this replica's uncommitted tail, which goes;
// then the leader's entries are written from this replica's end on. So a duplicate or late
// Append of the same epoch never truncates, and a deposed leader's tail is cut exactly where it
// parts from the new leader's log.
//
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <utility>

#include "common/status.h"
#include "riffle/cluster/v1/replication.pb.h"
#include "server/cluster/replica_state.h"

namespace riffle::storage {
class Store;
}

namespace riffle::cluster {

class Follower {
 public:
  explicit Follower(storage::Store& store) : store_(store) {}

  StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& request);
  StatusOr<v1::FenceResponse> Fence(const v1::FenceRequest& request);

  // The replica's state, for a node that starts leading the shard (it records its own epoch
  // with Save). Loaded from disk on first use.
  StatusOr<ReplicaState> Load(uint64_t stream_id, uint32_t ordinal);
  Status Save(uint64_t stream_id, uint32_t ordinal, const ReplicaState& state);

 private:
  using ShardKey = std::pair<uint64_t, uint32_t>;
  StatusOr<ReplicaState*> StateLocked(const ShardKey& shard);

  storage::Store& store_;
  std::mutex mu_;  // serializes every change to a replica, and guards states_
  std::map<ShardKey, ReplicaState> states_;
};

}  // namespace riffle::cluster
