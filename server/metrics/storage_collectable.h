// The storage health series, read from a source (riffled's store and broker) at each scrape:
// the disk each stream takes, the write-ahead log, the space left on the data directory's
// filesystem, RocksDB's compaction debt and write stalls, and how long the commit pipeline's
// writes (with their fsyncs) take.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "server/broker/types.h"

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
  std::vector<double> commit_bounds_seconds;
  std::vector<uint64_t> commit_at_most;
  uint64_t commit_count = 0;
  double commit_sum_seconds = 0;
};

class StorageCollectable final : public prometheus::Collectable {
 public:
  // nullptr: no series. Waits for a collection in progress.
  void SetSource(std::function<StorageGauges()> source);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;                  // held across the source's call
  std::function<StorageGauges()> source_;  // guarded by mu_
};

}  // namespace riffle::metrics
