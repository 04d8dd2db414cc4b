// Retention: changing a stream's period, and trimming what has expired.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

using storage::StreamMeta;

}  // namespace

Status BrokerImpl::ChangeRetention(const RequestContext& ctx, const RetentionRequest& req,
                                   bool increase) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.retention_period_hours.has_value(), "retentionPeriodHours");
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  const int64_t hours = *req.retention_period_hours;
  if (hours < kMinRetentionHours) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Minimum allowed retention period is {} hours. Requested retention "
                              "period ({} hours) is too short.",
                              kMinRetentionHours, hours));
  }
  if (hours > kMaxRetentionHours) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Maximum allowed retention period is {} hours. Requested retention "
                              "period ({} hours) is too long.",
                              kMaxRetentionHours, hours));
  }
  MutexLock control(&stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  if (increase && hours < meta.retention_hours) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Requested retention period ({} hours) for stream {} can not be "
                              "shorter than existing retention period ({} hours). Use "
                              "DecreaseRetentionPeriod API.",
                              hours, meta.name, meta.retention_hours));
  }
  if (!increase && hours > meta.retention_hours) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Requested retention period ({} hours) for stream {} can not be "
                              "longer than existing retention period ({} hours). Use "
                              "IncreaseRetentionPeriod API.",
                              hours, meta.name, meta.retention_hours));
  }
  meta.retention_hours = static_cast<int32_t>(hours);
  return CommitMeta(*stream, std::move(meta));
}

Status BrokerImpl::IncreaseStreamRetentionPeriod(const RequestContext& ctx,
                                                 const RetentionRequest& req) {
  return ChangeRetention(ctx, req, /*increase=*/true);
}

Status BrokerImpl::DecreaseStreamRetentionPeriod(const RequestContext& ctx,
                                                 const RetentionRequest& req) {
  return ChangeRetention(ctx, req, /*increase=*/false);
}

void BrokerImpl::TrimExpiredRecords() {
  const std::vector<std::shared_ptr<Stream>> streams = LiveStreams();
  const int64_t now = clock_.NowMillis();
  for (const auto& stream : streams) {
    const StreamMeta meta = stream->Snapshot();
    const int64_t cutoff = now - int64_t{meta.retention_hours} * 3600 * 1000;
    uint64_t trimmed = 0;
    size_t shards = 0;
    for (const auto& shard : stream->shards()->all) {
      StatusOr<uint64_t> trimmed_here = shard->log->TrimBefore(cutoff);
      if (!trimmed_here.ok()) {
        spdlog::warn("stream {} {}: retention trim failed, retried on the next pass: {}",
                     meta.name, shard->shard_id, trimmed_here.status().message());
      } else if (*trimmed_here > 0) {
        trimmed += *trimmed_here;
        ++shards;
      }
    }
    if (trimmed > 0) {
      spdlog::info("stream {}: retention ({} h) trimmed {} records from {} shards", meta.name,
                   meta.retention_hours, trimmed, shards);
    }
    DropExpiredShards(*stream, cutoff).IgnoreError();  // retried on the next pass
  }
}

void BrokerImpl::LogThrottling() {
  const std::vector<std::shared_ptr<Stream>> streams = LiveStreams();
  for (const auto& stream : streams) {
    const uint64_t records = stream->throttled_records.exchange(0, std::memory_order_relaxed);
    const uint64_t reads = stream->throttled_reads.exchange(0, std::memory_order_relaxed);
    if (records > 0 || reads > 0) {
      spdlog::warn("stream {}: its shard quotas refused {} records and {} GetRecords calls since "
                   "the last summary (ProvisionedThroughputExceeded)",
                   stream->Snapshot().name, records, reads);
    }
  }
}

Status BrokerImpl::DropExpiredShards(Stream& stream, int64_t cutoff_ms) {
  MutexLock control(&stream.control_mu);
  StreamMeta meta = stream.Snapshot();
  // A shard closed before the cutoff holds nothing newer than it: every record has expired.
  std::vector<uint32_t> expired;
  std::erase_if(meta.shards, [&](const storage::ShardMeta& shard) {
    const bool gone = shard.ending_position && shard.closed_ms < cutoff_ms;
    if (gone) {
      expired.push_back(shard.ordinal);
    }
    return gone;
  });
  if (expired.empty()) {
    return Status();
  }
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<const ShardSet> next,
                          BuildShardSet(meta, stream.shards().get()));
  RIFFLE_RETURN_IF_ERROR(CommitMeta(stream, std::move(meta), std::move(next)));
  // After the catalog forgets them; a crash in between leaves records the next start drops as
  // unreferenced.
  return store_.DropShards(stream.id, expired);
}

}  // namespace riffle::broker
