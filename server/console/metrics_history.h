// The recent past of riffled's own stream metrics, for the console's charts: what the broker
// reports to its observer (the source of the Prometheus metrics, server/metrics) summed into
// intervals of a few seconds and kept in rings for the last hour, per stream, per shard and per
// consumer group (the group's lag, read from the broker at each interval).
//
// Memory is bounded: a series exists only while its stream, shard or group had something to show
// within the window (a shard: records put, or a read that was behind), and at most
// `max_shard_series` shards keep a history at once (10,000 busy shards do not make 10,000
// rings; the shards beyond are counted, not kept).
//
// Thread-safe. The Observer calls are on the broker's request path and only add to counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "server/broker/observer.h"
#include "server/broker/types.h"

namespace riffle::console {

struct MetricsHistoryOptions {
  std::chrono::milliseconds interval{5000};
  int64_t intervals = 720;  // an hour of 5 s
  int64_t max_shard_series = 1000;
};

// One series' values, oldest first, one per interval; a gauge with nothing to report in an
// interval (no GetRecords call, an unknown group) is nullopt.
struct TrafficSeries {
  std::vector<int64_t> incoming_bytes;
  std::vector<int64_t> incoming_records;
  std::vector<std::optional<int64_t>> iterator_age_ms;  // the interval's highest
};

struct ShardHistory {
  std::string shard_id;
  int64_t incoming_records_total = 0;  // over the answer's intervals, to rank shards
  TrafficSeries traffic;
};

struct GroupHistory {
  std::string group;
  std::vector<std::optional<int64_t>> lag_records;  // summed over the group's shards
  std::vector<std::optional<int64_t>> lag_ms;       // the group's most behind shard
};

struct StreamHistory {
  int64_t start_ms = 0;  // where the first interval begins
  int64_t interval_ms = 0;
  int64_t intervals = 0;
  std::optional<TrafficSeries> stream;  // none: no traffic within the window
  std::vector<ShardHistory> shards;     // every shard with a history, busiest first
  int64_t shards_without_history = 0;   // active shards beyond max_shard_series
  std::vector<GroupHistory> groups;
};

class MetricsHistory final : public broker::Observer {
 public:
  explicit MetricsHistory(MetricsHistoryOptions options = {});
  ~MetricsHistory() override;

  // Samples every interval on a thread of its own, reading the groups' lag from `group_lags`
  // (the broker), until StopSampling(), which must come before whatever `group_lags` uses goes.
  void StartSampling(std::function<std::vector<broker::GroupLag>()> group_lags);
  void StopSampling();

  // Closes the interval that ends at `now_ms` (rounded down to the interval): what was observed
  // since the last call becomes its values. The sampling thread calls it; tests call it.
  void Sample(int64_t now_ms, const std::vector<broker::GroupLag>& group_lags);

  // The last `intervals` closed intervals of a stream (fewer when the history is shorter).
  StreamHistory History(const std::string& stream, int64_t intervals) const;
  // Only the stream-level traffic, for the stream list's sparklines.
  std::map<std::string, TrafficSeries> StreamTraffic(int64_t intervals, int64_t* start_ms) const;
  int64_t interval_ms() const { return options_.interval.count(); }

  // broker::Observer
  void RecordsWritten(const broker::ShardTraffic& traffic) override;
  void RecordsRead(const broker::ShardTraffic& traffic, int64_t iterator_age_ms) override;
  // A subscriber's MillisBehindLatest charts with the readers' iterator age.
  void SubscriptionEventSent(const broker::ShardTraffic& traffic,
                             int64_t millis_behind_latest) override {
    RecordsRead(traffic, millis_behind_latest);
  }
  void Throttled(const broker::ShardTraffic& /*traffic*/, bool /*write*/) override {}
  void Call(broker::Operation /*operation*/, std::string_view /*stream*/, double /*seconds*/,
            ErrorCode /*outcome*/) override {}
  void PutTallied(broker::Operation /*operation*/, std::string_view /*stream*/,
                  const broker::PutTally& /*tally*/) override {}
  // A deleted stream's history ages out like an idle one's.
  void StreamDeleted(std::string_view /*stream*/) override {}

 private:
  // What one shard did in the open interval.
  struct Pending {
    int64_t incoming_bytes = 0;
    int64_t incoming_records = 0;
    int64_t iterator_age_ms = -1;  // -1: not read
  };
  // A ring of `intervals` values per field; slot = interval number % intervals. A gauge's -1 is
  // "nothing to report".
  struct Ring {
    std::vector<int64_t> a, b, c;
    int64_t last_active = 0;  // the interval it last had something to show
  };
  struct ShardKey {
    std::string stream;
    std::string shard_or_group;
    bool operator<(const ShardKey& o) const {
      return std::tie(stream, shard_or_group) < std::tie(o.stream, o.shard_or_group);
    }
  };

  Ring NewRing(int64_t fill_a, int64_t fill_b, int64_t fill_c) const;
  void Put(Ring& ring, int64_t interval, int64_t a, int64_t b, int64_t c) const;
  // The values of the last `count` closed intervals, oldest first.
  std::vector<int64_t> Read(const std::vector<int64_t>& field, int64_t count) const
      ABSL_SHARED_LOCKS_REQUIRED(history_mu_);
  TrafficSeries ReadTraffic(const Ring& ring, int64_t count) const
      ABSL_SHARED_LOCKS_REQUIRED(history_mu_);
  int64_t Clamp(int64_t intervals) const ABSL_SHARED_LOCKS_REQUIRED(history_mu_);

  const MetricsHistoryOptions options_;

  Mutex pending_mu_;
  // By stream, then shard.
  std::unordered_map<std::string, std::unordered_map<std::string, Pending>> pending_
      ABSL_GUARDED_BY(pending_mu_);

  mutable SharedMutex history_mu_;
  int64_t first_interval_ ABSL_GUARDED_BY(history_mu_) = -1;  // -1: nothing sampled yet
  int64_t last_interval_ ABSL_GUARDED_BY(history_mu_) = -1;
  // a = incoming bytes, b = incoming records, c = iterator age.
  std::map<std::string, Ring> streams_ ABSL_GUARDED_BY(history_mu_);
  std::map<ShardKey, Ring> shards_ ABSL_GUARDED_BY(history_mu_);
  // a = lag in records, b = lag in milliseconds.
  std::map<ShardKey, Ring> groups_ ABSL_GUARDED_BY(history_mu_);
  // Active shards in the last interval that had no room for a history, by stream.
  std::map<std::string, int64_t> shards_without_history_ ABSL_GUARDED_BY(history_mu_);

  Mutex thread_mu_;
  CondVar thread_cv_;
  bool stopping_ ABSL_GUARDED_BY(thread_mu_) = false;
  std::thread thread_;
};

}  // namespace riffle::console
