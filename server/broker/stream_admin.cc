// CreateStream and DeleteStream.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

using storage::StreamMeta;

}  // namespace

Status BrokerImpl::CreateStream(const RequestContext& ctx, const CreateStreamRequest& req) {
  Validator v;
  v.Required(req.stream_name.has_value(), "streamName");
  v.Name(req.stream_name, "streamName");
  v.Range(req.shard_count, "shardCount", 1, 100000);
  v.Enum(req.stream_mode, "streamModeDetails.streamMode", kStreamModes);
  v.Range(req.max_record_size_kib, "maxRecordSizeInKiB", kMinMaxRecordSizeKiB,
          kMaxMaxRecordSizeKiB);
  v.TagMap(req.tags, "tags", 0, 200);
  v.Range(req.warm_throughput_mibps, "warmThroughputMiBps", 0, INT32_MAX);
  v.Range(req.replication_factor, "replicationFactor", 1, storage::kMaxReplicationFactor);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  const bool on_demand = req.stream_mode == "ON_DEMAND" || (!req.stream_mode && !req.shard_count);
  if (on_demand && req.shard_count) {
    return Status(ErrorCode::kValidation, "ShardCount is not expected when StreamMode=ON_DEMAND");
  }
  if (!on_demand && !req.shard_count) {
    return Status(ErrorCode::kValidation, "ShardCount is required when StreamMode=PROVISIONED");
  }
  if (req.tags.size() > kMaxTagsPerStream) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Failed to create stream {} under account {} because a given stream "
                              "cannot have more than {} tags associated with it.",
                              *req.stream_name, ctx.account, kMaxTagsPerStream));
  }
  RIFFLE_RETURN_IF_ERROR(CheckTagCharacters(
      TagTexts(req.tags),
      fmt::format("create stream {} under account {}", *req.stream_name, ctx.account)));
  if (req.warm_throughput_mibps) {
    RIFFLE_RETURN_IF_ERROR(CheckWarmThroughput(ctx, *req.stream_name,
                                               on_demand ? "ON_DEMAND" : "PROVISIONED",
                                               *req.warm_throughput_mibps));
  }
  const uint32_t shard_count =
      on_demand ? kOnDemandDefaultShards : static_cast<uint32_t>(*req.shard_count);

  MutexLock create_lock(&create_mu_);
  if (FindStream(*req.stream_name)) {
    return Status(
        ErrorCode::kResourceInUse,
        fmt::format("Stream {} under account {} already exists.", *req.stream_name, ctx.account));
  }
  RIFFLE_ASSIGN_OR_RETURN(DescribeLimitsResult limits, DescribeLimits(ctx));
  if (static_cast<int64_t>(limits.open_shard_count) + shard_count > options_.shard_limit) {
    return Status(ErrorCode::kLimitExceeded,
                  fmt::format("This request would exceed the shard limit for the account {} in "
                              "{}. Current limit of shards is {}. Number of additional shards "
                              "that would have resulted from this request: {}.",
                              ctx.account, ctx.region, options_.shard_limit, shard_count));
  }
  const int64_t now = clock_.NowMillis();
  StreamMeta meta;
  meta.id = next_stream_id_;
  meta.name = *req.stream_name;
  meta.status = "ACTIVE";  // Riffle has nothing to wait for: a shard needs nothing on disk
  meta.mode = on_demand ? "ON_DEMAND" : "PROVISIONED";
  meta.created_ms = now;
  meta.tags = req.tags;
  meta.max_record_size_kib =
      static_cast<int32_t>(req.max_record_size_kib.value_or(kMinMaxRecordSizeKiB));
  meta.warm_throughput_mibps = req.warm_throughput_mibps.value_or(0);
  meta.replication_factor = static_cast<uint32_t>(req.replication_factor.value_or(0));
  auto ranges = storage::EvenHashKeyRanges(shard_count);
  for (uint32_t i = 0; i < shard_count; ++i) {
    storage::ShardMeta shard;
    shard.ordinal = i;
    shard.starting_hash_key = ranges[i].first;
    shard.ending_hash_key = ranges[i].second;
    shard.created_ms = now;
    meta.shards.push_back(shard);
  }
  meta.next_shard_ordinal = shard_count;
  // The shards' logs first, catalog last: a shard needs nothing on disk before its first
  // record, and records of a stream no catalog entry names are dropped at the next start.
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, BuildStream(meta));
  storage::Store::CatalogChange change;
  change.puts.emplace_back(std::string(storage::kCatalogStreamPrefix) + meta.name,
                           storage::EncodeStreamMeta(meta));
  std::string next_id;
  AppendBigEndian64(next_id, meta.id + 1);
  change.puts.emplace_back(std::string(storage::kCatalogNextStreamIdKey), next_id);
  RIFFLE_RETURN_IF_ERROR(store_.WriteCatalog(change));
  ++next_stream_id_;
  spdlog::info("stream {} created: {} shards, {}, account {}", meta.name, shard_count, meta.mode,
               ctx.account);
  WriterMutexLock lock(&streams_mu_);
  streams_by_id_[stream->id] = stream;
  streams_[meta.name] = std::move(stream);
  return Status();
}

Status BrokerImpl::DeleteStream(const RequestContext& ctx, const DeleteStreamRequest& req) {
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  MutexLock create_lock(&create_mu_);
  StreamMeta meta = stream->Snapshot();
  if (FindStream(meta.name) != stream) {
    return Status(ErrorCode::kResourceNotFound, NotFound(ctx, meta.name));  // a racing delete
  }
  if (!meta.consumers.empty() && !req.enforce_consumer_deletion) {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Stream {} under account {} has registered consumers; deleting it "
                              "needs EnforceConsumerDeletion.",
                              meta.name, ctx.account));
  }
  // Catalog first: once the entry is gone the stream is gone, even if a crash interrupts the
  // drop of its records below (the next start drops what is left).
  storage::Store::CatalogChange change;
  change.deletes.push_back(std::string(storage::kCatalogStreamPrefix) + meta.name);
  for (std::string& key : GroupCatalogKeysOf(stream->id)) {
    change.deletes.push_back(std::move(key));
  }
  RIFFLE_RETURN_IF_ERROR(store_.WriteCatalog(change));
  ForgetGroups(stream->id);
  spdlog::info("stream {} deleted; its {} shards are dropped in the background", meta.name,
               stream->shards()->all.size());
  ForgetStream(stream);
  return Status();
}

}  // namespace riffle::broker
