#include "server/console/metrics_history.h"

#include <algorithm>

namespace riffle::console {
namespace {

// How long after an interval's end the sampling thread closes it: the wall clock may run a
// little behind the steady clock the thread waits by.
constexpr int64_t kWakeAfterMs = 50;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::optional<int64_t>> Gauge(const std::vector<int64_t>& values) {
  std::vector<std::optional<int64_t>> out;
  out.reserve(values.size());
  for (int64_t value : values) {
    out.push_back(value < 0 ? std::nullopt : std::optional<int64_t>(value));
  }
  return out;
}

}  // namespace

MetricsHistory::MetricsHistory(MetricsHistoryOptions options) : options_(options) {}

MetricsHistory::~MetricsHistory() { StopSampling(); }

void MetricsHistory::StartSampling(std::function<std::vector<broker::GroupLag>()> group_lags) {
  thread_ = std::thread([this, group_lags = std::move(group_lags)] {
    const int64_t interval = options_.interval.count();
    while (true) {
      // Wake just after the next multiple of the interval, so every node's intervals line up.
      const int64_t now = NowMillis();
      const auto deadline =
          std::chrono::steady_clock::now() +
          std::chrono::milliseconds((now / interval + 1) * interval - now + kWakeAfterMs);
      {
        MutexLock lock(&thread_mu_);
        while (!stopping_ && !thread_cv_.WaitWithDeadline(&thread_mu_, deadline)) {
        }
        if (stopping_) {
          return;
        }
      }
      Sample(NowMillis(), group_lags());
    }
  });
}

void MetricsHistory::StopSampling() {
  {
    MutexLock lock(&thread_mu_);
    stopping_ = true;
    thread_cv_.SignalAll();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void MetricsHistory::RecordsWritten(const broker::ShardTraffic& traffic) {
  MutexLock lock(&pending_mu_);
  Pending& pending = pending_[std::string(traffic.stream)][std::string(traffic.shard_id)];
  pending.incoming_bytes += static_cast<int64_t>(traffic.bytes);
  pending.incoming_records += static_cast<int64_t>(traffic.records);
}

void MetricsHistory::RecordsRead(const broker::ShardTraffic& traffic, int64_t iterator_age_ms) {
  MutexLock lock(&pending_mu_);
  Pending& pending = pending_[std::string(traffic.stream)][std::string(traffic.shard_id)];
  pending.iterator_age_ms = std::max(pending.iterator_age_ms, iterator_age_ms);
}

MetricsHistory::Ring MetricsHistory::NewRing(int64_t fill_a, int64_t fill_b,
                                             int64_t fill_c) const {
  const auto size = static_cast<size_t>(options_.intervals);
  return Ring{.a = std::vector<int64_t>(size, fill_a),
              .b = std::vector<int64_t>(size, fill_b),
              .c = std::vector<int64_t>(size, fill_c),
              .last_active = 0};
}

void MetricsHistory::Put(Ring& ring, int64_t interval, int64_t a, int64_t b, int64_t c) const {
  const auto slot = static_cast<size_t>(interval % options_.intervals);
  ring.a[slot] = a;
  ring.b[slot] = b;
  ring.c[slot] = c;
}

void MetricsHistory::Sample(int64_t now_ms, const std::vector<broker::GroupLag>& group_lags) {
  std::unordered_map<std::string, std::unordered_map<std::string, Pending>> pending;
  {
    MutexLock lock(&pending_mu_);
    pending.swap(pending_);
  }
  // Interval k covers [k * interval, (k + 1) * interval): sampling at its end closes it.
  int64_t interval = now_ms / options_.interval.count() - 1;
  WriterMutexLock lock(&history_mu_);
  bool merge = false;  // a second sample within one interval adds to it
  if (last_interval_ >= 0 && interval <= last_interval_) {
    interval = last_interval_;
    merge = true;
  } else {
    // Intervals no one sampled (a stalled thread) and the new one start empty.
    const int64_t from = last_interval_ < 0 ? interval
                                            : std::max(last_interval_ + 1,
                                                       interval - options_.intervals + 1);
    for (int64_t k = from; k <= interval; ++k) {
      for (auto& [name, ring] : streams_) {
        Put(ring, k, 0, 0, -1);
      }
      for (auto& [key, ring] : shards_) {
        Put(ring, k, 0, 0, -1);
      }
      for (auto& [key, ring] : groups_) {
        Put(ring, k, -1, -1, -1);
      }
    }
    if (first_interval_ < 0) {
      first_interval_ = interval;
    }
    last_interval_ = interval;
    shards_without_history_.clear();
  }
  const auto slot = static_cast<size_t>(interval % options_.intervals);
  const auto add = [&](Ring& ring, const Pending& p) {
    ring.a[slot] += p.incoming_bytes;
    ring.b[slot] += p.incoming_records;
    ring.c[slot] = std::max(ring.c[slot], p.iterator_age_ms);
    ring.last_active = interval;
  };
  for (const auto& [stream, shards] : pending) {
    Pending total;
    for (const auto& [shard, p] : shards) {
      total.incoming_bytes += p.incoming_bytes;
      total.incoming_records += p.incoming_records;
      total.iterator_age_ms = std::max(total.iterator_age_ms, p.iterator_age_ms);
      ShardKey key{.stream = stream, .shard_or_group = shard};
      auto it = shards_.find(key);
      if (it == shards_.end()) {
        if (p.incoming_records == 0 && p.iterator_age_ms <= 0) {
          continue;  // only read, and caught up: a scan of idle shards keeps no history
        }
        if (static_cast<int64_t>(shards_.size()) >= options_.max_shard_series) {
          ++shards_without_history_[stream];
          continue;
        }
        it = shards_.emplace(std::move(key), NewRing(0, 0, -1)).first;
      }
      add(it->second, p);
    }
    auto it = streams_.find(stream);
    if (it == streams_.end()) {
      it = streams_.emplace(stream, NewRing(0, 0, -1)).first;
    }
    add(it->second, total);
  }

  // Each group's lag: records summed over its shards, time from its most behind shard.
  std::map<ShardKey, std::pair<int64_t, int64_t>> lags;
  for (const broker::GroupLag& lag : group_lags) {
    auto& [records, ms] = lags[ShardKey{.stream = lag.stream_name, .shard_or_group = lag.group_name}];
    records += static_cast<int64_t>(lag.records);
    ms = std::max(ms, lag.ms);
  }
  for (const auto& [key, lag] : lags) {
    auto it = groups_.find(key);
    if (it == groups_.end()) {
      it = groups_.emplace(key, NewRing(-1, -1, -1)).first;
    }
    Ring& ring = it->second;
    ring.a[slot] = merge ? std::max(ring.a[slot], lag.first) : lag.first;
    ring.b[slot] = merge ? std::max(ring.b[slot], lag.second) : lag.second;
    ring.last_active = interval;
  }

  // Series with nothing to show in the whole window go.
  const int64_t oldest = interval - options_.intervals + 1;
  const auto stale = [&](const auto& entry) { return entry.second.last_active < oldest; };
  std::erase_if(streams_, stale);
  std::erase_if(shards_, stale);
  std::erase_if(groups_, stale);
}

int64_t MetricsHistory::Clamp(int64_t intervals) const {
  if (last_interval_ < 0) {
    return 0;
  }
  return std::clamp<int64_t>(intervals, 0,
                             std::min(options_.intervals, last_interval_ - first_interval_ + 1));
}

std::vector<int64_t> MetricsHistory::Read(const std::vector<int64_t>& field,
                                          int64_t count) const {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t k = last_interval_ - count + 1; k <= last_interval_; ++k) {
    out.push_back(field[static_cast<size_t>(k % options_.intervals)]);
  }
  return out;
}

TrafficSeries MetricsHistory::ReadTraffic(const Ring& ring, int64_t count) const {
  return TrafficSeries{.incoming_bytes = Read(ring.a, count),
                       .incoming_records = Read(ring.b, count),
                       .iterator_age_ms = Gauge(Read(ring.c, count))};
}

StreamHistory MetricsHistory::History(const std::string& stream, int64_t intervals) const {
  ReaderMutexLock lock(&history_mu_);
  StreamHistory out;
  out.interval_ms = options_.interval.count();
  out.intervals = Clamp(intervals);
  out.start_ms = (last_interval_ - out.intervals + 1) * out.interval_ms;
  if (out.intervals == 0) {
    return out;
  }
  if (auto it = streams_.find(stream); it != streams_.end()) {
    out.stream = ReadTraffic(it->second, out.intervals);
  }
  const ShardKey first{.stream = stream, .shard_or_group = ""};
  for (auto it = shards_.lower_bound(first); it != shards_.end() && it->first.stream == stream;
       ++it) {
    ShardHistory& shard = out.shards.emplace_back();
    shard.shard_id = it->first.shard_or_group;
    shard.traffic = ReadTraffic(it->second, out.intervals);
    for (int64_t records : shard.traffic.incoming_records) {
      shard.incoming_records_total += records;
    }
  }
  std::stable_sort(out.shards.begin(), out.shards.end(),
                   [](const ShardHistory& a, const ShardHistory& b) {
                     return a.incoming_records_total > b.incoming_records_total;
                   });
  if (auto it = shards_without_history_.find(stream); it != shards_without_history_.end()) {
    out.shards_without_history = it->second;
  }
  for (auto it = groups_.lower_bound(first); it != groups_.end() && it->first.stream == stream;
       ++it) {
    out.groups.push_back(GroupHistory{.group = it->first.shard_or_group,
                                      .lag_records = Gauge(Read(it->second.a, out.intervals)),
                                      .lag_ms = Gauge(Read(it->second.b, out.intervals))});
  }
  return out;
}

std::map<std::string, TrafficSeries> MetricsHistory::StreamTraffic(int64_t intervals,
                                                                   int64_t* start_ms) const {
  ReaderMutexLock lock(&history_mu_);
  std::map<std::string, TrafficSeries> out;
  const int64_t count = Clamp(intervals);
  *start_ms = (last_interval_ - count + 1) * options_.interval.count();
  if (count == 0) {
    return out;
  }
  for (const auto& [name, ring] : streams_) {
    out.emplace(name, ReadTraffic(ring, count));
  }
  return out;
}

}  // namespace riffle::console
