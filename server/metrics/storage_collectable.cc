#include "server/metrics/storage_collectable.h"

#include <limits>
#include <string>
#include <utility>

#include "server/metrics/single_sample.h"

namespace riffle::metrics {

std::vector<prometheus::MetricFamily> StorageCollectable::Families(
    const StorageGauges& gauges) const {
  std::vector<prometheus::MetricFamily> out;
  prometheus::MetricFamily disk{
      .name = "riffle_stream_disk_bytes",
      .help =
          "Bytes of each stream's records in table files on this node (records not yet "
          "flushed from memory are counted in riffle_wal_bytes)",
      .type = prometheus::MetricType::Gauge,
      .metric = {}};
  for (const broker::StreamDisk& stream : gauges.streams) {
    prometheus::ClientMetric metric;
    metric.label = {{.name = "stream", .value = stream.stream_name}};
    metric.gauge.value = static_cast<double>(stream.bytes);
    disk.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(disk));
  out.push_back(SingleSample("riffle_wal_bytes", "Bytes of the write-ahead log files on disk",
                             static_cast<double>(gauges.wal_bytes)));
  out.push_back(SingleSample("riffle_data_dir_available_bytes",
                             "Bytes still available to riffled on the data directory's filesystem",
                             static_cast<double>(gauges.filesystem_available_bytes)));
  out.push_back(SingleSample("riffle_data_dir_size_bytes",
                             "Size of the data directory's filesystem",
                             static_cast<double>(gauges.filesystem_size_bytes)));
  out.push_back(SingleSample("riffle_rocksdb_pending_compaction_bytes",
                             "Bytes RocksDB estimates compaction still has to rewrite",
                             static_cast<double>(gauges.pending_compaction_bytes)));
  out.push_back(SingleSample("riffle_rocksdb_write_stopped",
                             "1 while RocksDB stops writes (too many level-0 files or memtables)",
                             gauges.writes_stopped ? 1 : 0));
  out.push_back(
      SingleSample("riffle_rocksdb_delayed_write_rate_bytes",
                   "Bytes per second RocksDB slows writes to while compaction is behind; 0 "
                   "when writes are not slowed",
                   static_cast<double>(gauges.delayed_write_rate)));
  out.push_back(SingleSample("riffle_damaged_table_files",
                             "Table files whose block checksums failed the check at start; reads "
                             "of the records they hold fail",
                             static_cast<double>(gauges.damaged_table_files)));
  out.push_back(SingleSample("riffle_shards_to_drop",
                             "Dropped shards (deleted streams, expired shards) whose records are "
                             "not deleted and compacted away yet (their disk comes back then)",
                             static_cast<double>(gauges.shards_to_drop)));
  prometheus::MetricFamily commits{
      .name = "riffle_commit_duration_seconds",
      .help = "Duration of each group commit's write, with its WAL fsync under --fsync=always",
      .type = prometheus::MetricType::Histogram,
      .metric = {}};
  prometheus::ClientMetric histogram;
  histogram.histogram.sample_count = gauges.commit_count;
  histogram.histogram.sample_sum = gauges.commit_sum_seconds;
  for (size_t i = 0; i < gauges.commit_bounds_seconds.size() && i < gauges.commit_at_most.size();
       ++i) {
    histogram.histogram.bucket.push_back({.cumulative_count = gauges.commit_at_most[i],
                                          .upper_bound = gauges.commit_bounds_seconds[i]});
  }
  histogram.histogram.bucket.push_back({.cumulative_count = gauges.commit_count,
                                        .upper_bound = std::numeric_limits<double>::infinity()});
  commits.metric.push_back(std::move(histogram));
  out.push_back(std::move(commits));
  return out;
}

}  // namespace riffle::metrics
