// What a replica of one shard remembers besides its records (docs/cluster.md §5.1), stored in
// the catalog column family under `replica/<stream id>/<ordinal>` and written in the same
// synced WriteBatch as the records it describes:
//   fenced epoch: the highest epoch this replica has promised to; it refuses older ones;
//   committed:    the high watermark its leader last told it (a lower bound of the real one);
//   history:      the first offset of every epoch its log holds entries of, in order (Kafka's
//                 leader-epoch checkpoint). Two replicas whose histories agree up to an offset
//                 hold the same entries below it, which is how a follower finds where its log
//                 and its new leader's part.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace riffle::cluster {

struct EpochStart {
  uint64_t epoch = 0;
  uint64_t start_offset = 0;
  bool operator==(const EpochStart&) const = default;
};

using EpochHistory = std::vector<EpochStart>;

struct ReplicaState {
  uint64_t fenced_epoch = 0;
  uint64_t committed = 0;
  EpochHistory history;
};

std::string ReplicaStateKey(uint64_t stream_id, uint32_t ordinal);
inline constexpr std::string_view kReplicaStatePrefix = "replica/";
std::string EncodeReplicaState(const ReplicaState& state);
std::optional<ReplicaState> DecodeReplicaState(std::string_view value);

// The epoch the entry at `offset` was written in; 0 before the first epoch.
uint64_t EpochAt(const EpochHistory& history, uint64_t offset);
// The first offset below `end` where two logs with these histories can differ: both hold
// the same entries below it. `end` is the shorter log's end.
uint64_t FirstDivergence(const EpochHistory& a, const EpochHistory& b, uint64_t end);
// `history` without the epochs that start at or after `end` (a log cut at `end`).
EpochHistory HistoryBelow(const EpochHistory& history, uint64_t end);

}  // namespace riffle::cluster
