// How busy the front ends are, read from them at each scrape: riffle_open_connections{api} (the
// Kinesis port's open connections) and riffle_grpc_calls_in_flight (gRPC calls started and not
// finished, open subscriptions included).
#pragma once

#include <cstdint>
#include <vector>

#include <prometheus/metric_family.h>

#include "server/metrics/sourced_collectable.h"

namespace riffle::metrics {

struct FrontEndGauges {
  uint64_t kinesis_connections = 0;
  uint64_t grpc_calls_in_flight = 0;
};

class FrontEndCollectable final : public SourcedCollectable<FrontEndGauges> {
 protected:
  std::vector<prometheus::MetricFamily> Families(const FrontEndGauges& gauges) const override;
};

}  // namespace riffle::metrics
