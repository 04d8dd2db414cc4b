#include "server/metrics/front_end_collectable.h"

#include "server/metrics/single_sample.h"

namespace riffle::metrics {

std::vector<prometheus::MetricFamily> FrontEndCollectable::Families(
    const FrontEndGauges& gauges) const {
  prometheus::MetricFamily connections =
      GaugeFamily("riffle_open_connections", "Connections open on a port of riffled");
  prometheus::ClientMetric kinesis;
  kinesis.label = {{.name = "api", .value = "kinesis"}};
  kinesis.gauge.value = static_cast<double>(gauges.kinesis_connections);
  connections.metric.push_back(std::move(kinesis));
  std::vector<prometheus::MetricFamily> out;
  out.push_back(std::move(connections));
  out.push_back(SingleSample("riffle_grpc_calls_in_flight",
                             "gRPC calls started and not yet finished, open subscriptions included",
                             static_cast<double>(gauges.grpc_calls_in_flight)));
  return out;
}

}  // namespace riffle::metrics
