#include "server/metrics/group_lag_collectable.h"

namespace riffle::metrics {

void GroupLagCollectable::SetSource(std::function<std::vector<broker::GroupLag>()> source) {
  std::lock_guard lock(mu_);
  source_ = std::move(source);
}

std::vector<prometheus::MetricFamily> GroupLagCollectable::Collect() const {
  std::lock_guard lock(mu_);
  if (!source_) {
    return {};
  }
  prometheus::MetricFamily records{
      .name = "riffle_consumer_group_lag_records",
      .help = "Records of each shard after its consumer group's checkpoint",
      .type = prometheus::MetricType::Gauge,
      .metric = {}};
  prometheus::MetricFamily millis{
      .name = "riffle_consumer_group_lag_milliseconds",
      .help =
          "Age of the first record after each shard's consumer group checkpoint (0 "
          "without lag)",
      .type = prometheus::MetricType::Gauge,
      .metric = {}};
  for (const broker::GroupLag& lag : source_()) {
    prometheus::ClientMetric metric;
    metric.label = {{.name = "stream", .value = lag.stream_name},
                    {.name = "group", .value = lag.group_name},
                    {.name = "shard", .value = lag.shard_id}};
    metric.gauge.value = static_cast<double>(lag.records);
    records.metric.push_back(metric);
    metric.gauge.value = static_cast<double>(lag.ms);
    millis.metric.push_back(std::move(metric));
  }
  return {std::move(records), std::move(millis)};
}

}  // namespace riffle::metrics
