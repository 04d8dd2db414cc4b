// How a reshard learns where its parent shards end (server/broker/reshard.cc).
//
// On one node the broker holds every shard's records: it stops the stream's appends, lets the
// queued ones commit and takes each parent's committed end. In a cluster a parent's records are
// on its leader, often another node, and writes reach it from every node: a ShardSealer stops
// them there for good and reports the end, before the catalog closes the parent at it.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace riffle::broker {

class ShardSealer {
 public:
  virtual ~ShardSealer() = default;

  // Stops every write to the shards of `stream_id` named by `ordinals` and returns, in the same
  // order, each one's end: the offset after its last committed record, which no later write
  // passes. On an error the shards are left as Release() leaves them.
  virtual StatusOr<std::vector<uint64_t>> Seal(uint64_t stream_id,
                                               const std::vector<uint32_t>& ordinals) = 0;
  // The reshard that sealed the shards is over, its catalog write done or failed: a shard the
  // catalog closed stays closed, one it did not takes writes again.
  virtual void Release(uint64_t stream_id, const std::vector<uint32_t>& ordinals) = 0;
};

}  // namespace riffle::broker
