// The riffle_consumer_group_lag_* gauges: each consumer group's lag per shard, read from a
// source (the broker) at each scrape, so a group whose runners stopped still shows its lag
// growing as records arrive.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "server/broker/types.h"

namespace riffle::metrics {

class GroupLagCollectable final : public prometheus::Collectable {
 public:
  // nullptr: no series. Waits for a collection in progress, so the previous source is not
  // called again once this returns.
  void SetSource(std::function<std::vector<broker::GroupLag>()> source);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;                                  // held across the source's call
  std::function<std::vector<broker::GroupLag>()> source_;  // guarded by mu_
};

}  // namespace riffle::metrics
