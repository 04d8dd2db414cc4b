// The lag series, read from a source (the broker) at each scrape, so a reader that stopped still
// shows its lag growing as records arrive:
// - riffle_consumer_group_lag_{records,milliseconds}{stream,group,shard}: each consumer group's
//   lag per shard;
// - riffle_get_records_iterator_age_milliseconds{stream}: the age of the first record the
//   furthest-behind iterator reader has not read, the maximum over the stream's shards (and per
//   shard, with a shard label, under enhanced monitoring), and riffle_open_iterators{stream}, how
//   many such readers there are;
// - riffle_consumer_lag_{records,milliseconds}{stream,consumer}: each registered consumer's lag,
//   summed (records) and the maximum (milliseconds) over the shards.
#pragma once

#include <vector>

#include <prometheus/metric_family.h>

#include "server/broker/types.h"
#include "server/metrics/sourced_collectable.h"

namespace riffle::metrics {

struct LagReport {
  std::vector<broker::GroupLag> groups;
  std::vector<broker::ReaderLag> readers;
};

class LagCollectable final : public SourcedCollectable<LagReport> {
 protected:
  std::vector<prometheus::MetricFamily> Families(const LagReport& report) const override;
};

}  // namespace riffle::metrics
