// Describing and listing: DescribeStream, DescribeStreamSummary, ListStreams, ListShards,
// DescribeLimits.
#include <algorithm>

#include <fmt/format.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

using storage::StreamMeta;

// Which shards a ListShards page may hold, from its ShardFilter (the API reference's rules).
// Kept in the page token, so every page of one listing applies the same filter.
struct ShardSelection {
  enum class Kind : uint8_t {
    kAll = 0,            // no filter, AFTER_SHARD_ID, FROM_TRIM_HORIZON
    kOpen = 1,           // AT_LATEST: only the open shards
    kOpenAt = 2,         // AT_TIMESTAMP, AT_TRIM_HORIZON: shards open at `at_ms`
    kOpenSinceOrAfter = 3,  // FROM_TIMESTAMP: open shards, and closed ones that closed at or
                            // after `at_ms`
  };
  Kind kind = Kind::kAll;
  int64_t at_ms = 0;

  bool Includes(const storage::ShardMeta& shard) const {
    const bool open = !shard.ending_position.has_value();
    switch (kind) {
      case Kind::kAll:
        return true;
      case Kind::kOpen:
        return open;
      case Kind::kOpenAt:
        // A stream's first shards count as started with it: a time before the stream began
        // selects them, as it would select the oldest data.
        return (!shard.parent_ordinal || shard.created_ms <= at_ms) &&
               (open || shard.closed_ms >= at_ms);
      case Kind::kOpenSinceOrAfter:
        return open || shard.closed_ms >= at_ms;
    }
    return true;
  }
};

// The time of the stream's trim horizon: its oldest record that retention still keeps.
int64_t TrimHorizonMs(const StreamMeta& meta, int64_t now_ms) {
  return std::max(meta.created_ms, now_ms - int64_t{meta.retention_hours} * 3600 * 1000);
}

}  // namespace

ShardDescription BrokerImpl::DescribeShard(const Shard& shard) const {
  ShardDescription out;
  out.shard_id = shard.shard_id;
  if (shard.meta.parent_ordinal) {
    out.parent_shard_id = storage::FormatShardId(*shard.meta.parent_ordinal);
  }
  if (shard.meta.adjacent_parent_ordinal) {
    out.adjacent_parent_shard_id = storage::FormatShardId(*shard.meta.adjacent_parent_ordinal);
  }
  out.hash_key_range.starting_hash_key = storage::FormatHashKey(shard.meta.starting_hash_key);
  out.hash_key_range.ending_hash_key = storage::FormatHashKey(shard.meta.ending_hash_key);
  out.starting_sequence_number = storage::FormatSequenceNumber(shard.meta.ordinal, 0);
  if (shard.meta.ending_position) {
    out.ending_sequence_number =
        storage::FormatSequenceNumber(shard.meta.ordinal, *shard.meta.ending_position);
  }
  return out;
}

StreamDescription BrokerImpl::Describe(const RequestContext& ctx, const StreamMeta& meta) const {
  StreamDescription out;
  out.stream_name = meta.name;
  out.stream_arn = Arn(ctx, meta.name);
  out.stream_status = meta.status;
  out.stream_mode = meta.mode;
  out.retention_period_hours = meta.retention_hours;
  out.creation_time_ms = meta.created_ms;
  out.shard_level_metrics = meta.shard_level_metrics;
  out.encryption_type = meta.encryption_type;
  if (!meta.key_id.empty()) {
    out.key_id = meta.key_id;
  }
  out.max_record_size_kib = meta.max_record_size_kib;
  if (meta.warm_throughput_mibps > 0) {
    out.warm_throughput_mibps = meta.warm_throughput_mibps;
  }
  out.consumer_count = static_cast<int32_t>(meta.consumers.size());
  for (const storage::ShardMeta& shard : meta.shards) {
    out.open_shard_count += shard.ending_position ? 0 : 1;
  }
  return out;
}

StatusOr<StreamDescription> BrokerImpl::DescribeStream(const RequestContext& ctx,
                                                       const DescribeStreamRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Range(req.limit, "limit", 1, 10000);
  v.Name(req.exclusive_start_shard_id, "exclusiveStartShardId");
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  StreamDescription out = Describe(ctx, stream->Snapshot());
  const size_t page = static_cast<size_t>(std::min<int64_t>(req.limit.value_or(100), 100));
  std::optional<uint32_t> after;
  if (req.exclusive_start_shard_id) {
    after = storage::ParseShardId(*req.exclusive_start_shard_id);
  }
  for (const auto& shard : stream->shards()->all) {
    if (after && shard->meta.ordinal <= *after) {
      continue;
    }
    if (out.shards.size() == page) {
      out.has_more_shards = true;
      break;
    }
    out.shards.push_back(DescribeShard(*shard));
  }
  return out;
}

StatusOr<StreamDescription> BrokerImpl::DescribeStreamSummary(const RequestContext& ctx,
                                                              const StreamRef& ref) {
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, ref));
  return Describe(ctx, stream->Snapshot());
}

StatusOr<ListStreamsResult> BrokerImpl::ListStreams(const RequestContext& ctx,
                                                    const ListStreamsRequest& req) {
  Validator v;
  v.Range(req.limit, "limit", 1, 10000);
  v.Name(req.exclusive_start_stream_name, "exclusiveStartStreamName");
  v.Length(req.next_token, "nextToken", 1, 1048576);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  std::optional<std::string> after = req.exclusive_start_stream_name;
  if (req.next_token) {  // the token wins over ExclusiveStartStreamName
    RIFFLE_ASSIGN_OR_RETURN(after, OpenPageToken(TokenKind::kListStreams, *req.next_token));
  }
  const size_t page = static_cast<size_t>(std::min<int64_t>(req.limit.value_or(100), 100));
  std::vector<std::shared_ptr<Stream>> streams;
  {
    ReaderMutexLock lock(&streams_mu_);
    auto it = after ? streams_.upper_bound(*after) : streams_.begin();
    for (; it != streams_.end(); ++it) {
      streams.push_back(it->second);
    }
  }
  ListStreamsResult out;
  for (const auto& stream : streams) {
    if (out.streams.size() == page) {
      out.has_more_streams = true;
      out.next_token = SignPageToken(TokenKind::kListStreams, out.streams.back().stream_name);
      break;
    }
    StreamMeta meta = stream->Snapshot();
    if (ctx.caller != nullptr && !ctx.caller->MaySeeStream(meta.name)) {
      continue;  // a key lists only the streams it may use
    }
    out.streams.push_back(
        StreamSummary{meta.name, Arn(ctx, meta.name), meta.status, meta.mode, meta.created_ms});
  }
  return out;
}

StatusOr<ListShardsResult> BrokerImpl::ListShards(const RequestContext& ctx,
                                                  const ListShardsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Length(req.next_token, "nextToken", 1, 1048576);
  v.Name(req.exclusive_start_shard_id, "exclusiveStartShardId");
  v.Range(req.max_results, "maxResults", 1, 10000);
  if (req.shard_filter) {
    v.Required(req.shard_filter->type.has_value(), "shardFilter.type");
    v.Enum(req.shard_filter->type, "shardFilter.type",
           {"AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP",
            "FROM_TIMESTAMP"});
    v.Name(req.shard_filter->shard_id, "shardFilter.shardId");
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());

  StreamRef ref = req.stream;
  std::optional<uint32_t> after;
  ShardSelection selection;
  if (req.next_token) {
    for (const auto& [present, what] :
         {std::pair{req.stream.name.has_value(), "StreamName"},
          std::pair{req.stream.arn.has_value(), "StreamARN"},
          std::pair{req.exclusive_start_shard_id.has_value(), "ExclusiveStartShardId"},
          std::pair{req.shard_filter.has_value(), "ShardFilter"},
          std::pair{req.stream_creation_timestamp_ms.has_value(), "StreamCreationTimestamp"}}) {
      if (present) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("NextToken and {} cannot be provided together.", what));
      }
    }
    // payload: stream id | first ordinal of the page | selection kind | selection time |
    // stream name
    RIFFLE_ASSIGN_OR_RETURN(std::string payload,
                            OpenPageToken(TokenKind::kListShards, *req.next_token));
    constexpr size_t kNameOffset = 25;
    if (payload.size() < kNameOffset || static_cast<uint8_t>(payload[16]) > 3) {
      return Status(ErrorCode::kInvalidArgument, "Invalid NextToken.");
    }
    uint64_t stream_id = ReadBigEndian64(payload, 0);
    after = static_cast<uint32_t>(ReadBigEndian64(payload, 8));
    selection.kind = static_cast<ShardSelection::Kind>(payload[16]);
    selection.at_ms = static_cast<int64_t>(ReadBigEndian64(payload, 17));
    std::shared_ptr<Stream> stream = FindStreamById(stream_id);
    if (!stream) {
      return Status(ErrorCode::kResourceNotFound, NotFound(ctx, payload.substr(kNameOffset)));
    }
    ref.name = stream->Snapshot().name;
  } else if (!req.stream.name && !req.stream.arn) {
    return Status(ErrorCode::kInvalidArgument,
                  "Either NextToken or StreamName should be provided.");
  }
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, ref));
  StreamMeta meta = stream->Snapshot();
  if (meta.status == "CREATING" || meta.status == "DELETING") {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Stream {} under account {} is in {} state.", meta.name, ctx.account,
                              meta.status));
  }
  if (options_.shard_quotas) {
    MutexLock lock(&stream->list_shards_mu);
    if (!stream->list_shards_calls.TryTake(1, clock_.NowMillis())) {
      return Status(ErrorCode::kLimitExceeded,
                    fmt::format("Rate exceeded for stream {} under account {}.", meta.name,
                                ctx.account));
    }
  }
  if (req.exclusive_start_shard_id) {
    std::optional<uint32_t> ordinal = storage::ParseShardId(*req.exclusive_start_shard_id);
    after = ordinal ? *ordinal + 1 : 0;
  }
  if (req.shard_filter) {
    const ShardFilter& filter = *req.shard_filter;
    const std::string& type = *filter.type;
    const bool timed = type == "AT_TIMESTAMP" || type == "FROM_TIMESTAMP";
    if (type == "AFTER_SHARD_ID" && !filter.shard_id) {
      return Status(ErrorCode::kInvalidArgument,
                    "ShardId must be provided for the AFTER_SHARD_ID ShardFilter type.");
    }
    if (timed && !filter.timestamp_ms) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("Timestamp must be provided for the {} ShardFilter type.", type));
    }
    const int64_t trim_horizon_ms = TrimHorizonMs(meta, clock_.NowMillis());
    if (type == "AFTER_SHARD_ID") {
      std::optional<uint32_t> ordinal = storage::ParseShardId(*filter.shard_id);
      after = ordinal ? *ordinal + 1 : 0;
    } else if (type == "AT_LATEST") {
      selection.kind = ShardSelection::Kind::kOpen;
    } else if (type == "AT_TRIM_HORIZON") {
      selection = {ShardSelection::Kind::kOpenAt, trim_horizon_ms};
    } else if (type == "AT_TIMESTAMP") {
      selection = {ShardSelection::Kind::kOpenAt, *filter.timestamp_ms};
    } else if (type == "FROM_TIMESTAMP" && *filter.timestamp_ms > trim_horizon_ms) {
      // Earlier than the trim horizon reads as FROM_TRIM_HORIZON: every shard.
      selection = {ShardSelection::Kind::kOpenSinceOrAfter, *filter.timestamp_ms};
    }
  }
  const size_t page = static_cast<size_t>(req.max_results.value_or(1000));
  ListShardsResult out;
  for (const auto& shard : stream->shards()->all) {
    if ((after && shard->meta.ordinal < *after) || !selection.Includes(shard->meta)) {
      continue;
    }
    if (out.shards.size() == page) {
      std::string payload;
      AppendBigEndian64(payload, stream->id);
      AppendBigEndian64(payload, shard->meta.ordinal);  // the first shard of the next page
      payload.push_back(static_cast<char>(selection.kind));
      AppendBigEndian64(payload, static_cast<uint64_t>(selection.at_ms));
      payload += meta.name;
      out.next_token = SignPageToken(TokenKind::kListShards, payload);
      break;
    }
    out.shards.push_back(DescribeShard(*shard));
  }
  return out;
}

StatusOr<DescribeLimitsResult> BrokerImpl::DescribeLimits(const RequestContext&) {
  DescribeLimitsResult out;
  out.shard_limit = options_.shard_limit;
  ReaderMutexLock lock(&streams_mu_);
  for (const auto& [name, stream] : streams_) {
    StreamMeta meta = stream->Snapshot();
    out.open_shard_count += static_cast<int32_t>(stream->shards()->open.size());
    out.on_demand_stream_count += meta.mode == "ON_DEMAND" ? 1 : 0;
  }
  return out;
}

}  // namespace riffle::broker
