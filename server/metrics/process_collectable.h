// The standard process_* series (as Prometheus's own clients name them) and riffle_build_info,
// read from /proc at each scrape: prometheus-cpp has no process collector.
#pragma once

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace riffle::metrics {

class ProcessCollectable final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace riffle::metrics
