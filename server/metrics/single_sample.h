// Metric families built at a scrape (cluster state, lags, storage health, the process): most are
// one sample without labels.
#pragma once

#include <string>
#include <utility>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace riffle::metrics {

// A gauge family without samples yet, for series read at a scrape with labels.
inline prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  return prometheus::MetricFamily{.name = std::move(name),
                                  .help = std::move(help),
                                  .type = prometheus::MetricType::Gauge,
                                  .metric = {}};
}

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
