#include "server/metrics/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "server/metrics/lag_collectable.h"
#include "server/metrics/process_collectable.h"
#include "server/metrics/single_sample.h"
#include "server/metrics/sourced_collectable.h"
#include "server/metrics/http_endpoints.h"

namespace riffle::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

std::string_view OperationName(broker::Operation op) {
  switch (op) {
    case broker::Operation::kPutRecord: return "PutRecord";
    case broker::Operation::kPutRecords: return "PutRecords";
    case broker::Operation::kGetRecords: return "GetRecords";
    case broker::Operation::kGetShardIterator: return "GetShardIterator";
    case broker::Operation::kSubscribeToShard: return "SubscribeToShard";
  }
  return "unknown";
}

const Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  return *buckets;
}

// The riffle_cluster_* gauges, built from the source at each collection: they describe the
// cluster as it is at the scrape, and a node that leaves the cluster leaves them.
class ClusterCollectable final : public SourcedCollectable<ClusterGauges> {
 protected:
  std::vector<prometheus::MetricFamily> Families(const ClusterGauges& gauges) const override {
    std::vector<prometheus::MetricFamily> out;
    out.push_back(SingleSample("riffle_cluster_nodes", "Live members of the cluster",
                               static_cast<double>(gauges.nodes)));
    out.push_back(SingleSample("riffle_cluster_is_controller",
                               "1 if this node is the cluster's controller, else 0",
                               gauges.is_controller ? 1 : 0));
    out.push_back(SingleSample("riffle_cluster_lease_valid",
                               "1 while this node's etcd lease holds (it may serve), else 0",
                               gauges.lease_valid ? 1 : 0));
    prometheus::MetricFamily owned{.name = "riffle_cluster_shards_owned",
                                   .help = "Shards each node owns, as this node sees etcd",
                                   .type = prometheus::MetricType::Gauge,
                                   .metric = {}};
    for (const auto& [node, count] : gauges.shards_owned) {
      prometheus::ClientMetric metric;
      metric.label.push_back({.name = "node", .value = node});
      metric.gauge.value = static_cast<double>(count);
      owned.metric.push_back(std::move(metric));
    }
    out.push_back(std::move(owned));
    out.push_back(SingleSample("riffle_cluster_elections_total",
                               "Shard leaders this node elected as the controller since it started",
                               static_cast<double>(gauges.elections),
                               prometheus::MetricType::Counter));
    prometheus::MetricFamily replicas = GaugeFamily(
        "riffle_replication_replicas", "Copies of each replicated shard this node leads");
    prometheus::MetricFamily in_sync = GaugeFamily(
        "riffle_replication_in_sync_replicas",
        "Copies in sync with the leader (itself included) of each shard this node leads; "
        "writes need a majority");
    prometheus::MetricFamily lag = GaugeFamily(
        "riffle_replication_follower_lag_records",
        "Records each follower lacks of what its leader (this node) holds durably");
    for (const ClusterGauges::LedShard& shard : gauges.led_shards) {
      AddShardSample(replicas, shard, {}, static_cast<double>(shard.replicas));
      AddShardSample(in_sync, shard, {}, static_cast<double>(shard.in_sync));
      for (const auto& [follower, records] : shard.follower_lag) {
        AddShardSample(lag, shard, follower, static_cast<double>(records));
      }
    }
    out.push_back(std::move(replicas));
    out.push_back(std::move(in_sync));
    out.push_back(std::move(lag));
    return out;
  }

 private:
  // A sample labelled with the shard's stream and shard id, and `follower` unless empty.
  static void AddShardSample(prometheus::MetricFamily& family,
                             const ClusterGauges::LedShard& shard, const std::string& follower,
                             double value) {
    prometheus::ClientMetric metric;
    metric.label.push_back({.name = "stream", .value = shard.stream});
    metric.label.push_back({.name = "shard", .value = shard.shard_id});
    if (!follower.empty()) {
      metric.label.push_back({.name = "follower", .value = follower});
    }
    metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
  }
};

// The series of one stream, or of one of its shards, looked up once and then reused:
// Family::Add takes a lock and hashes the labels, too much for every request.
struct Series {
  Counter* incoming_bytes;
  Counter* incoming_records;
  Counter* outgoing_bytes;
  Counter* outgoing_records;
  Counter* write_throttled;
  Counter* read_throttled;
  Counter* event_bytes;
  Counter* event_records;
};

// The series AWS has per stream only.
struct StreamSeries {
  Counter* put_record_bytes;
  Counter* put_records_bytes;
  Counter* put_records_successful;
  Counter* put_records_throttled;
  Counter* put_records_failed;
  Counter* events;
  Gauge* event_millis_behind;
};

class MetricsImpl final : public MetricsServer {
 public:
  MetricsImpl()
      : registry_(std::make_shared<prometheus::Registry>()),
        cluster_(std::make_shared<ClusterCollectable>()),
        lag_(std::make_shared<LagCollectable>()),
        storage_(std::make_shared<StorageCollectable>()),
        front_end_(std::make_shared<FrontEndCollectable>()),
        process_(std::make_shared<ProcessCollectable>()),
        incoming_bytes_(prometheus::BuildCounter()
                            .Name("riffle_incoming_bytes_total")
                            .Help("Bytes put into the stream (CloudWatch IncomingBytes)")
                            .Register(*registry_)),
        incoming_records_(prometheus::BuildCounter()
                              .Name("riffle_incoming_records_total")
                              .Help("Records put into the stream (CloudWatch IncomingRecords)")
                              .Register(*registry_)),
        outgoing_bytes_(prometheus::BuildCounter()
                            .Name("riffle_get_records_bytes_total")
                            .Help("Bytes returned by GetRecords (CloudWatch GetRecords.Bytes)")
                            .Register(*registry_)),
        outgoing_records_(prometheus::BuildCounter()
                              .Name("riffle_get_records_records_total")
                              .Help("Records returned by GetRecords (GetRecords.Records)")
                              .Register(*registry_)),
        put_record_bytes_(prometheus::BuildCounter()
                              .Name("riffle_put_record_bytes_total")
                              .Help("Bytes put by PutRecord calls (PutRecord.Bytes)")
                              .Register(*registry_)),
        put_records_bytes_(prometheus::BuildCounter()
                               .Name("riffle_put_records_bytes_total")
                               .Help("Bytes of the records PutRecords calls put "
                                     "(PutRecords.Bytes)")
                               .Register(*registry_)),
        put_records_records_(prometheus::BuildCounter()
                                 .Name("riffle_put_records_records_total")
                                 .Help("Records of answered PutRecords calls by outcome: "
                                       "successful, throttled, failed (PutRecords.TotalRecords, "
                                       ".SuccessfulRecords, .ThrottledRecords, .FailedRecords)")
                                 .Register(*registry_)),
        event_bytes_(prometheus::BuildCounter()
                         .Name("riffle_subscribe_to_shard_event_bytes_total")
                         .Help("Bytes sent to subscribers (SubscribeToShardEvent.Bytes)")
                         .Register(*registry_)),
        event_records_(prometheus::BuildCounter()
                           .Name("riffle_subscribe_to_shard_event_records_total")
                           .Help("Records sent to subscribers (SubscribeToShardEvent.Records)")
                           .Register(*registry_)),
        events_(prometheus::BuildCounter()
                    .Name("riffle_subscribe_to_shard_events_total")
                    .Help("Events sent to subscribers, heartbeats included "
                          "(SubscribeToShardEvent.Success)")
                    .Register(*registry_)),
        event_millis_behind_(prometheus::BuildGauge()
                                 .Name("riffle_subscribe_to_shard_event_millis_behind_latest")
                                 .Help("MillisBehindLatest of the latest event sent to a "
                                       "subscriber (SubscribeToShardEvent.MillisBehindLatest)")
                                 .Register(*registry_)),
        write_throttled_(prometheus::BuildCounter()
                             .Name("riffle_write_provisioned_throughput_exceeded_total")
                             .Help("Records refused by the write quota "
                                   "(WriteProvisionedThroughputExceeded)")
                             .Register(*registry_)),
        read_throttled_(prometheus::BuildCounter()
                            .Name("riffle_read_provisioned_throughput_exceeded_total")
                            .Help("GetRecords calls refused by the read quota "
                                  "(ReadProvisionedThroughputExceeded)")
                            .Register(*registry_)),
        latency_(prometheus::BuildHistogram()
                     .Name("riffle_operation_latency_seconds")
                     .Help("Duration of data-plane calls (PutRecord.Latency, ...)")
                     .Register(*registry_)),
        calls_(prometheus::BuildCounter()
                   .Name("riffle_operation_calls_total")
                   .Help("Data-plane calls by outcome (PutRecord.Success, ...)")
                   .Register(*registry_)) {}

  Status Listen(const std::string& host, int port, auth::TlsFiles tls) {
    if (port == 0) {
      return Status();
    }
    RIFFLE_ASSIGN_OR_RETURN(
        http_, HttpEndpoints::Start(
                   host, port, std::move(tls), [this] { return Render(); },
                   [this] {
                     std::lock_guard lock(readiness_mu_);
                     return readiness_ ? readiness_()
                                       : Status(ErrorCode::kServiceUnavailable, "starting");
                   }));
    return Status();
  }

  ~MetricsImpl() override { http_.reset(); }  // no scrape or probe runs after this

  int port() const override { return http_ ? http_->port() : 0; }

  Status ReloadTls() override { return http_ ? http_->ReloadTls() : Status(); }

  void SetReadiness(std::function<Status()> readiness) override {
    std::lock_guard lock(readiness_mu_);
    readiness_ = std::move(readiness);
  }

  std::string Render() const override {
    std::vector<prometheus::MetricFamily> families = registry_->Collect();
    for (const prometheus::Collectable* collectable :
         std::initializer_list<const prometheus::Collectable*>{
             cluster_.get(), lag_.get(), storage_.get(), front_end_.get(), process_.get()}) {
      for (prometheus::MetricFamily& family : collectable->Collect()) {
        families.push_back(std::move(family));
      }
    }
    return prometheus::TextSerializer().Serialize(families);
  }

  void SetClusterSource(std::function<ClusterGauges()> source) override {
    cluster_->SetSource(std::move(source));
  }

  void SetLagSource(std::function<LagReport()> source) override {
    lag_->SetSource(std::move(source));
  }

  void SetStorageSource(std::function<StorageGauges()> source) override {
    storage_->SetSource(std::move(source));
  }

  void SetFrontEndSource(std::function<FrontEndGauges()> source) override {
    front_end_->SetSource(std::move(source));
  }

  void RecordsWritten(const broker::ShardTraffic& t) override {
    UpdateSeries(t, [&](Series& s) {
      s.incoming_bytes->Increment(static_cast<double>(t.bytes));
      s.incoming_records->Increment(static_cast<double>(t.records));
    });
  }

  // The iterator age comes from the broker's reader positions at each scrape (LagCollectable),
  // not from the last call: it must keep growing when nobody reads.
  void RecordsRead(const broker::ShardTraffic& t, int64_t /*iterator_age_ms*/) override {
    UpdateSeries(t, [&](Series& s) {
      s.outgoing_bytes->Increment(static_cast<double>(t.bytes));
      s.outgoing_records->Increment(static_cast<double>(t.records));
    });
  }

  void SubscriptionEventSent(const broker::ShardTraffic& t, int64_t millis_behind_latest) override {
    UpdateSeries(t, [&](Series& s) {
      s.event_bytes->Increment(static_cast<double>(t.bytes));
      s.event_records->Increment(static_cast<double>(t.records));
    });
    UpdateStreamSeries(t.stream, [&](StreamSeries& s) {
      s.events->Increment();
      s.event_millis_behind->Set(static_cast<double>(millis_behind_latest));
    });
  }

  void PutTallied(broker::Operation op, std::string_view stream,
                  const broker::PutTally& tally) override {
    UpdateStreamSeries(stream, [&](StreamSeries& s) {
      if (op == broker::Operation::kPutRecord) {
        s.put_record_bytes->Increment(static_cast<double>(tally.bytes));
        return;
      }
      s.put_records_bytes->Increment(static_cast<double>(tally.bytes));
      s.put_records_successful->Increment(static_cast<double>(tally.successful));
      s.put_records_throttled->Increment(static_cast<double>(tally.throttled));
      s.put_records_failed->Increment(static_cast<double>(tally.failed));
    });
  }

  void StreamDeleted(std::string_view stream) override {
    std::unique_lock lock(mu_);
    const std::string prefix = std::string(stream) + '\0';
    std::erase_if(series_, [&](const auto& entry) {
      if (!entry.first.starts_with(prefix)) {
        return false;
      }
      const Series& s = entry.second;
      incoming_bytes_.Remove(s.incoming_bytes);
      incoming_records_.Remove(s.incoming_records);
      outgoing_bytes_.Remove(s.outgoing_bytes);
      outgoing_records_.Remove(s.outgoing_records);
      write_throttled_.Remove(s.write_throttled);
      read_throttled_.Remove(s.read_throttled);
      event_bytes_.Remove(s.event_bytes);
      event_records_.Remove(s.event_records);
      return true;
    });
    if (auto it = stream_series_.find(std::string(stream)); it != stream_series_.end()) {
      const StreamSeries& s = it->second;
      put_record_bytes_.Remove(s.put_record_bytes);
      put_records_bytes_.Remove(s.put_records_bytes);
      put_records_records_.Remove(s.put_records_successful);
      put_records_records_.Remove(s.put_records_throttled);
      put_records_records_.Remove(s.put_records_failed);
      events_.Remove(s.events);
      event_millis_behind_.Remove(s.event_millis_behind);
      stream_series_.erase(it);
    }
    // Call keys are operation \0 stream \0 outcome.
    std::erase_if(calls_by_key_, [&](const auto& entry) {
      const size_t first = entry.first.find('\0');
      if (entry.first.compare(first + 1, prefix.size(), prefix) != 0) {
        return false;
      }
      latency_.Remove(entry.second.first);
      calls_.Remove(entry.second.second);
      return true;
    });
  }

  void Throttled(const broker::ShardTraffic& t, bool write) override {
    UpdateSeries(t, [&](Series& s) { (write ? s.write_throttled : s.read_throttled)->Increment(); });
  }

  void Call(broker::Operation op, std::string_view stream, double seconds,
            ErrorCode outcome) override {
    const std::string name(OperationName(op));
    const std::string key = name + '\0' + std::string(stream) + '\0' +
                            std::string(outcome == ErrorCode::kOk ? "" : KinesisName(outcome));
    {
      std::shared_lock lock(mu_);
      if (auto it = calls_by_key_.find(key); it != calls_by_key_.end()) {
        it->second.first->Observe(seconds);
        it->second.second->Increment();
        return;
      }
    }
    std::unique_lock lock(mu_);
    auto& entry = calls_by_key_[key];
    if (entry.first == nullptr) {
      entry.first = &latency_.Add({{"operation", name}, {"stream", std::string(stream)}},
                                  LatencyBuckets());
      entry.second = &calls_.Add(
          {{"operation", name},
           {"stream", std::string(stream)},
           {"outcome", outcome == ErrorCode::kOk ? "success" : std::string(KinesisName(outcome))}});
    }
    entry.first->Observe(seconds);
    entry.second->Increment();
  }

 private:
  // Runs `update` on the stream's series, and on the shard's when shard-level metrics are on,
  // with mu_ held: StreamDeleted() removes series under it, so none goes while it is updated.
  template <typename Update>
  void UpdateSeries(const broker::ShardTraffic& t, Update&& update) {
    const std::string stream_key = std::string(t.stream) + '\0';
    const std::string shard_key = t.shard_level ? stream_key + std::string(t.shard_id) : "";
    {
      std::shared_lock lock(mu_);
      auto stream = series_.find(stream_key);
      auto shard = t.shard_level ? series_.find(shard_key) : series_.end();
      if (stream != series_.end() && (!t.shard_level || shard != series_.end())) {
        update(stream->second);
        if (t.shard_level) {
          update(shard->second);
        }
        return;
      }
    }
    std::unique_lock lock(mu_);
    update(SeriesLocked(stream_key, t.stream, {}));
    if (t.shard_level) {
      update(SeriesLocked(shard_key, t.stream, t.shard_id));
    }
  }

  Series& SeriesLocked(const std::string& key, std::string_view stream, std::string_view shard) {
    if (auto it = series_.find(key); it != series_.end()) {
      return it->second;
    }
    prometheus::Labels labels{{"stream", std::string(stream)}};
    if (!shard.empty()) {
      labels["shard"] = std::string(shard);
    }
    Series s{&incoming_bytes_.Add(labels),  &incoming_records_.Add(labels),
             &outgoing_bytes_.Add(labels),  &outgoing_records_.Add(labels),
             &write_throttled_.Add(labels), &read_throttled_.Add(labels),
             &event_bytes_.Add(labels),     &event_records_.Add(labels)};
    return series_.emplace(key, s).first->second;
  }

  // The same for the series AWS has per stream only.
  template <typename Update>
  void UpdateStreamSeries(std::string_view stream, Update&& update) {
    const std::string key(stream);
    {
      std::shared_lock lock(mu_);
      if (auto it = stream_series_.find(key); it != stream_series_.end()) {
        update(it->second);
        return;
      }
    }
    std::unique_lock lock(mu_);
    auto it = stream_series_.find(key);
    if (it == stream_series_.end()) {
      const prometheus::Labels labels{{"stream", key}};
      const auto with_outcome = [&](const char* outcome) {
        prometheus::Labels out = labels;
        out["outcome"] = outcome;
        return out;
      };
      it = stream_series_
               .emplace(key, StreamSeries{&put_record_bytes_.Add(labels),
                                          &put_records_bytes_.Add(labels),
                                          &put_records_records_.Add(with_outcome("successful")),
                                          &put_records_records_.Add(with_outcome("throttled")),
                                          &put_records_records_.Add(with_outcome("failed")),
                                          &events_.Add(labels), &event_millis_behind_.Add(labels)})
               .first;
    }
    update(it->second);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ClusterCollectable> cluster_;
  std::shared_ptr<LagCollectable> lag_;
  std::shared_ptr<StorageCollectable> storage_;
  std::shared_ptr<FrontEndCollectable> front_end_;
  std::shared_ptr<ProcessCollectable> process_;
  Family<Counter>& incoming_bytes_;
  Family<Counter>& incoming_records_;
  Family<Counter>& outgoing_bytes_;
  Family<Counter>& outgoing_records_;
  Family<Counter>& put_record_bytes_;
  Family<Counter>& put_records_bytes_;
  Family<Counter>& put_records_records_;
  Family<Counter>& event_bytes_;
  Family<Counter>& event_records_;
  Family<Counter>& events_;
  Family<Gauge>& event_millis_behind_;
  Family<Counter>& write_throttled_;
  Family<Counter>& read_throttled_;
  Family<Histogram>& latency_;
  Family<Counter>& calls_;

  std::shared_mutex mu_;
  std::unordered_map<std::string, Series> series_;  // guarded by mu_
  std::unordered_map<std::string, StreamSeries> stream_series_;  // guarded by mu_
  std::unordered_map<std::string, std::pair<Histogram*, Counter*>> calls_by_key_;  // mu_
  std::mutex readiness_mu_;
  std::function<Status()> readiness_;  // guarded by readiness_mu_
  std::unique_ptr<HttpEndpoints> http_;  // last: its threads call everything above
};

}  // namespace

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& host, int port,
                                                              auth::TlsFiles tls) {
  auto metrics = std::make_unique<MetricsImpl>();
  RIFFLE_RETURN_IF_ERROR(metrics->Listen(host, port, std::move(tls)));
  return std::unique_ptr<MetricsServer>(std::move(metrics));
}

}  // namespace riffle::metrics
