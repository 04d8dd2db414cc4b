// A metric family of one sample without labels: the shape of most gauges and counters read at a
// scrape (cluster state, storage health, the process).
#pragma once

#include <string>
#include <utility>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace riffle::metrics {

inline prometheus::MetricFamily SingleSample(
    std::string name, std::string help, double value,
    prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily family{
      .name = std::move(name), .help = std::move(help), .type = type, .metric = {}};
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace riffle::metrics
