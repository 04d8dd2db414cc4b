// How far behind readers are: a position's lag, and every shard's readers for the metrics.
#include <algorithm>

#include "server/broker/broker_impl.h"

namespace riffle::broker {

BrokerImpl::PositionLag BrokerImpl::LagAt(const Shard& shard, uint64_t offset) const {
  PositionLag lag;
  // Records trimmed by retention since the reader got there are no longer lag.
  const uint64_t next = std::max(offset, shard.log->trim_offset());
  const uint64_t end = shard.log->committed_end();
  if (end > next) {
    lag.records = end - next;
    StatusOr<storage::ReadResult> first = shard.log->Read(next, 1, kMaxGetRecordsBytes);
    if (first.ok() && !first->records.empty()) {
      lag.ms = std::max<int64_t>(0, clock_.NowMillis() - first->records[0].record.arrival_ms);
    }
  }
  return lag;
}

std::vector<ReaderLag> BrokerImpl::ReaderLags() {
  const std::vector<std::shared_ptr<Stream>> streams = LiveStreams();
  const int64_t now = clock_.NowMillis();
  std::vector<ReaderLag> out;
  for (const std::shared_ptr<Stream>& stream : streams) {
    const storage::StreamMeta meta = stream->Snapshot();
    std::vector<std::string> registered;
    for (const auto& consumer : meta.consumers) {
      registered.push_back(consumer.name);
    }
    const auto add = [&](const Shard& shard, std::string consumer, uint64_t readers,
                         uint64_t offset) {
      const PositionLag lag = LagAt(shard, offset);
      out.push_back(ReaderLag{.stream_name = meta.name,
                              .shard_id = shard.shard_id,
                              .shard_level = !meta.shard_level_metrics.empty(),
                              .consumer = std::move(consumer),
                              .readers = readers,
                              .records = lag.records,
                              .ms = lag.ms});
    };
    for (const std::shared_ptr<Shard>& shard : stream->shards()->all) {
      if (std::optional<uint64_t> furthest =
              shard->readers->FurthestBehindIterator(now, options_.iterator_ttl_ms)) {
        add(*shard, "", shard->readers->IteratorReaders(), *furthest);
      }
      for (auto& [consumer, offset] :
           shard->readers->Consumers(registered, now, options_.consumer_position_ttl_ms)) {
        add(*shard, std::move(consumer), 0, offset);
      }
    }
  }
  return out;
}

}  // namespace riffle::broker
