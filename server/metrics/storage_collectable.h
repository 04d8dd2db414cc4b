// The storage health series, read from a source (riffled's store and broker) at each scrape:
// the disk each stream takes, the write-ahead log, the space left on the data directory's
// filesystem, RocksDB's compaction debt and write stalls, and how long the commit pipeline's
// writes (with their fsyncs) take.
#pragma once

#include <cstdint>
#include <vector>

#include <prometheus/metric_family.h>

#include "server/broker/types.h"
#include "server/metrics/sourced_collectable.h"

namespace riffle::metrics {

// What the storage source gives; the commit histogram has the bucket bounds of
// storage::CommitTimes (cumulative counts, one per bound).
struct StorageGauges {
  std::vector<broker::StreamDisk> streams;
  uint64_t wal_bytes = 0;
  uint64_t filesystem_available_bytes = 0;  // of the data directory's filesystem
  uint64_t filesystem_size_bytes = 0;
  uint64_t pending_compaction_bytes = 0;
  bool writes_stopped = false;
  uint64_t delayed_write_rate = 0;
  uint64_t damaged_table_files = 0;
  uint64_t shards_to_drop = 0;
  std::vector<double> commit_bounds_seconds;
  std::vector<uint64_t> commit_at_most;
  uint64_t commit_count = 0;
  double commit_sum_seconds = 0;
};

class StorageCollectable final : public SourcedCollectable<StorageGauges> {
 protected:
  std::vector<prometheus::MetricFamily> Families(const StorageGauges& gauges) const override;
};

}  // namespace riffle::metrics
