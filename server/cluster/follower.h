// The replica side of replication (docs/cluster.md §5.3-5.4): applies a leader's Append to
// this node's copy of a shard, and answers the controller's Fence. Both go through one
// instance per node, serialized by its lock, and each answer is given only after what it
// promises is synced to disk: an acknowledged end is durable, a fence survives a crash.
//
// Appends that arrive together are applied together: one WriteBatch and one fsync for all of
// them (group commit across shards), as the leader's commit pipeline does.
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
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "common/status.h"
#include "riffle/cluster/v1/replication.pb.h"
#include "server/cluster/replica_state.h"
#include "storage/store.h"

namespace riffle::cluster {

class Follower {
 public:
  explicit Follower(storage::Store& store) : store_(store) {}

  // Applies Appends (of any shards, from any leaders) with one synced write for all of them,
  // as far as they go to distinct shards; answers in the order given.
  std::vector<StatusOr<v1::AppendResponse>> Append(
      const std::vector<const v1::AppendRequest*>& requests);
  StatusOr<v1::FenceResponse> Fence(const v1::FenceRequest& request);

  // Whether this replica has heard from a leader since this process started: from then on its
  // log shows readers what the leader last said is committed (a lower bound of the high
  // watermark), so a subscription can be served here without forwarding.
  bool Serves(uint64_t stream_id, uint32_t ordinal);

  // The replica's state, for a node that starts leading the shard (it records its own epoch
  // with Save). Loaded from disk on first use.
  StatusOr<ReplicaState> Load(uint64_t stream_id, uint32_t ordinal);
  Status Save(uint64_t stream_id, uint32_t ordinal, const ReplicaState& state);

 private:
  using ShardKey = std::pair<uint64_t, uint32_t>;
  // One Append worked out against the replica as it is, before anything is written.
  struct Plan {
    ShardKey shard;
    ReplicaState* state = nullptr;  // in states_
    std::shared_ptr<storage::ShardLog> log;
    v1::AppendResponse response;
    ReplicaState next;                                  // the state once written
    std::optional<storage::Store::CopiedRecords> write;  // none: nothing to write
  };
  StatusOr<ReplicaState*> StateLocked(const ShardKey& shard);
  // The shard's log, kept open from its first use: the store keeps a shard's positions only
  // while someone holds its ShardLog.
  StatusOr<std::shared_ptr<storage::ShardLog>> LogLocked(const ShardKey& shard);
  StatusOr<Plan> PlanLocked(const ShardKey& shard, const v1::AppendRequest& request);

  storage::Store& store_;
  std::mutex mu_;  // serializes every change to a replica, and guards states_ and logs_
  std::map<ShardKey, ReplicaState> states_;
  std::map<ShardKey, std::shared_ptr<storage::ShardLog>> logs_;
};

}  // namespace riffle::cluster
