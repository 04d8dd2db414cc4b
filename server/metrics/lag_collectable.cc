#include "server/metrics/lag_collectable.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "server/metrics/single_sample.h"

namespace riffle::metrics {
namespace {

prometheus::ClientMetric Sample(std::vector<prometheus::ClientMetric::Label> labels, double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  return metric;
}

void AddGroupLags(const std::vector<broker::GroupLag>& lags,
                  std::vector<prometheus::MetricFamily>& out) {
  prometheus::MetricFamily records =
      GaugeFamily("riffle_consumer_group_lag_records",
                  "Records of each shard after its consumer group's checkpoint");
  prometheus::MetricFamily millis = GaugeFamily(
      "riffle_consumer_group_lag_milliseconds",
      "Age of the first record after each shard's consumer group checkpoint (0 without lag)");
  for (const broker::GroupLag& lag : lags) {
    std::vector<prometheus::ClientMetric::Label> labels{
        {.name = "stream", .value = lag.stream_name},
        {.name = "group", .value = lag.group_name},
        {.name = "shard", .value = lag.shard_id}};
    records.metric.push_back(Sample(labels, static_cast<double>(lag.records)));
    millis.metric.push_back(Sample(std::move(labels), static_cast<double>(lag.ms)));
  }
  out.push_back(std::move(records));
  out.push_back(std::move(millis));
}

void AddReaderLags(const std::vector<broker::ReaderLag>& lags,
                   std::vector<prometheus::MetricFamily>& out) {
  prometheus::MetricFamily iterator_age = GaugeFamily(
      "riffle_get_records_iterator_age_milliseconds",
      "Age of the first record the furthest-behind GetRecords reader has not read, the maximum "
      "over the stream's shards (GetRecords.IteratorAgeMilliseconds); a reader counts until its "
      "iterator expires unused");
  prometheus::MetricFamily consumer_records = GaugeFamily(
      "riffle_consumer_lag_records",
      "Records a registered consumer's subscriptions have not sent yet, summed over the shards");
  prometheus::MetricFamily consumer_millis = GaugeFamily(
      "riffle_consumer_lag_milliseconds",
      "Age of the oldest record a registered consumer's subscriptions have not sent yet, the "
      "maximum over the shards (0 without lag)");
  prometheus::MetricFamily open_iterators = GaugeFamily(
      "riffle_open_iterators",
      "GetRecords readers of the stream whose iterator is still valid (used or handed out "
      "within the last 5 minutes)");
  std::map<std::string, int64_t> stream_age;
  std::map<std::string, uint64_t> stream_readers;
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, int64_t>> by_consumer;
  for (const broker::ReaderLag& lag : lags) {
    if (!lag.consumer.empty()) {
      auto& [records, ms] = by_consumer[{lag.stream_name, lag.consumer}];
      records += lag.records;
      ms = std::max(ms, lag.ms);
      continue;
    }
    int64_t& age = stream_age[lag.stream_name];
    age = std::max(age, lag.ms);
    stream_readers[lag.stream_name] += lag.readers;
    if (lag.shard_level) {
      iterator_age.metric.push_back(Sample(
          {{.name = "stream", .value = lag.stream_name}, {.name = "shard", .value = lag.shard_id}},
          static_cast<double>(lag.ms)));
    }
  }
  for (const auto& [stream, age] : stream_age) {
    iterator_age.metric.push_back(
        Sample({{.name = "stream", .value = stream}}, static_cast<double>(age)));
    open_iterators.metric.push_back(Sample({{.name = "stream", .value = stream}},
                                           static_cast<double>(stream_readers[stream])));
  }
  for (const auto& [key, lag] : by_consumer) {
    std::vector<prometheus::ClientMetric::Label> labels{{.name = "stream", .value = key.first},
                                                        {.name = "consumer", .value = key.second}};
    consumer_records.metric.push_back(Sample(labels, static_cast<double>(lag.first)));
    consumer_millis.metric.push_back(Sample(std::move(labels), static_cast<double>(lag.second)));
  }
  out.push_back(std::move(iterator_age));
  out.push_back(std::move(open_iterators));
  out.push_back(std::move(consumer_records));
  out.push_back(std::move(consumer_millis));
}

}  // namespace

std::vector<prometheus::MetricFamily> LagCollectable::Families(const LagReport& report) const {
  std::vector<prometheus::MetricFamily> out;
  AddGroupLags(report.groups, out);
  AddReaderLags(report.readers, out);
  return out;
}

}  // namespace riffle::metrics
