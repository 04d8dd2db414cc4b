// Control-plane operations: streams, listing, retention, tags, monitoring, encryption, mode.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

using storage::StreamMeta;

const std::vector<std::string_view> kStreamModes = {"PROVISIONED", "ON_DEMAND"};
const std::vector<std::string_view> kMetricNames = {
    "IncomingBytes",   "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
    "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds", "ALL"};

// A stream ARN split into its parts; nullopt unless it matches the model's pattern.
struct ParsedArn {
  std::string region;
  std::string account;
  std::string stream;
};

std::optional<ParsedArn> ParseStreamArn(std::string_view arn) {
  // arn:aws[-partition]:kinesis:<region>:<12-digit account>:stream/<name>
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  std::string_view resource = arn.substr(start);
  if (parts[0] != "arn" || parts[1].substr(0, 3) != "aws" || parts[2] != "kinesis" ||
      parts[4].size() != 12 ||
      !std::all_of(parts[4].begin(), parts[4].end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      resource.substr(0, 7) != "stream/" || resource.size() == 7) {
    return std::nullopt;
  }
  return ParsedArn{std::string(parts[3]), std::string(parts[4]), std::string(resource.substr(7))};
}

// Every key and value of `tags`, for CheckTagCharacters.
std::vector<std::string_view> TagTexts(const std::map<std::string, std::string>& tags) {
  std::vector<std::string_view> texts;
  for (const auto& [key, value] : tags) {
    texts.push_back(key);
    texts.push_back(value);
  }
  return texts;
}

std::vector<std::string> ExpandMetrics(const std::vector<std::string>& requested) {
  std::set<std::string> out;
  for (const std::string& metric : requested) {
    if (metric == "ALL") {
      for (std::string_view name : kMetricNames) {
        if (name != "ALL") {
          out.emplace(name);
        }
      }
    } else {
      out.insert(metric);
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace

Status RequireActive(const RequestContext& ctx, const StreamMeta& meta) {
  if (meta.status != "ACTIVE") {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Stream {} under account {} not ACTIVE, instead in state {}",
                              meta.name, ctx.account, meta.status));
  }
  return Status();
}

std::string BrokerImpl::SignPageToken(TokenKind kind, std::string_view payload) const {
  std::string stamped;
  AppendBigEndian64(stamped, static_cast<uint64_t>(clock_.NowMillis()));
  stamped.append(payload);
  return signer_.Sign(kind, stamped);
}

StatusOr<std::string> BrokerImpl::OpenPageToken(TokenKind kind, std::string_view token) const {
  std::optional<std::string> stamped = signer_.Verify(kind, token);
  if (!stamped || stamped->size() < 8) {
    return Status(ErrorCode::kInvalidArgument, "Invalid NextToken.");
  }
  if (clock_.NowMillis() - static_cast<int64_t>(ReadBigEndian64(*stamped, 0)) > kPageTokenTtlMs) {
    return Status(ErrorCode::kExpiredNextToken, "The NextToken has expired.");
  }
  return stamped->substr(8);
}

StatusOr<std::unique_ptr<Broker>> Broker::Open(storage::Store& store, const Clock& clock,
                                               BrokerOptions options, Observer* observer) {
  RIFFLE_ASSIGN_OR_RETURN(std::optional<std::string> secret,
                          store.GetCatalog(storage::kCatalogIteratorSecretKey));
  if (!secret) {
    secret = RandomSecret();
    storage::Store::CatalogChange change;
    change.puts.emplace_back(std::string(storage::kCatalogIteratorSecretKey), *secret);
    RIFFLE_RETURN_IF_ERROR(store.WriteCatalog(change));
  }
  auto broker =
      std::make_unique<BrokerImpl>(store, clock, options, std::move(*secret), observer);
  RIFFLE_RETURN_IF_ERROR(broker->Load());
  return std::unique_ptr<Broker>(std::move(broker));
}

BrokerImpl::BrokerImpl(storage::Store& store, const Clock& clock, BrokerOptions options,
                       std::string secret, Observer* observer)
    : store_(store),
      clock_(clock),
      options_(options),
      signer_(std::move(secret)),
      observer_(observer) {}

Status BrokerImpl::Load() {
  RIFFLE_ASSIGN_OR_RETURN(std::optional<std::string> next_id,
                          store_.GetCatalog(storage::kCatalogNextStreamIdKey));
  if (next_id && next_id->size() == 8) {
    next_stream_id_ = ReadBigEndian64(*next_id, 0);
  }
  RIFFLE_ASSIGN_OR_RETURN(auto entries, store_.ScanCatalog(storage::kCatalogStreamPrefix));
  std::set<std::string> live;
  for (const auto& [key, value] : entries) {
    std::optional<StreamMeta> meta = storage::DecodeStreamMeta(value);
    if (!meta) {
      return Status(ErrorCode::kInternalFailure, "corrupt catalog entry " + key);
    }
    for (const storage::ShardMeta& shard : meta->shards) {
      live.insert(storage::ShardColumnFamilyName(meta->id, shard.ordinal));
    }
    RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, BuildStream(std::move(*meta)));
    streams_by_id_[stream->id] = stream;
    streams_[stream->meta.name] = std::move(stream);
  }
  // Shards of a stream whose CreateStream or DeleteStream was cut short by a crash.
  return store_.DropShardsExcept(live);
}

std::shared_ptr<Shard> ShardSet::Find(uint32_t ordinal) const {
  auto it = std::lower_bound(all.begin(), all.end(), ordinal,
                             [](const auto& shard, uint32_t o) { return shard->meta.ordinal < o; });
  return it != all.end() && (*it)->meta.ordinal == ordinal ? *it : nullptr;
}

const std::shared_ptr<Shard>& ShardSet::Route(storage::HashKey hash_key) const {
  auto it = std::upper_bound(open.begin(), open.end(), hash_key,
                             [](storage::HashKey key, const std::shared_ptr<Shard>& s) {
                               return key < s->meta.starting_hash_key;
                             });
  return *std::prev(it);
}

std::vector<std::shared_ptr<Shard>> ShardSet::ChildrenOf(uint32_t ordinal) const {
  std::vector<std::shared_ptr<Shard>> children;
  for (const auto& shard : all) {
    if (shard->meta.parent_ordinal == ordinal || shard->meta.adjacent_parent_ordinal == ordinal) {
      children.push_back(shard);
    }
  }
  return children;
}

StatusOr<std::shared_ptr<const ShardSet>> BrokerImpl::BuildShardSet(const StreamMeta& meta,
                                                                    const ShardSet* previous) {
  auto set = std::make_shared<ShardSet>();
  std::vector<uint32_t> to_open;
  for (const storage::ShardMeta& shard_meta : meta.shards) {
    if (previous == nullptr || previous->Find(shard_meta.ordinal) == nullptr) {
      to_open.push_back(shard_meta.ordinal);
    }
  }
  RIFFLE_ASSIGN_OR_RETURN(std::vector<std::shared_ptr<storage::ShardLog>> opened,
                          store_.OpenShards(meta.id, to_open));
  size_t next_opened = 0;
  for (const storage::ShardMeta& shard_meta : meta.shards) {
    auto shard = std::make_shared<Shard>();
    if (std::shared_ptr<Shard> existing =
            previous != nullptr ? previous->Find(shard_meta.ordinal) : nullptr) {
      // Keep the shard's log and quota buckets; only its metadata may have changed.
      shard->shard_id = existing->shard_id;
      shard->log = existing->log;
      std::lock_guard lock(existing->quota_mu);
      shard->quotas = existing->quotas;
    } else {
      shard->shard_id = storage::FormatShardId(shard_meta.ordinal);
      shard->log = opened[next_opened++];
    }
    shard->meta = shard_meta;
    set->all.push_back(shard);
    if (!shard_meta.ending_position) {
      set->open.push_back(shard);
    }
  }
  std::sort(set->all.begin(), set->all.end(),
            [](const auto& a, const auto& b) { return a->meta.ordinal < b->meta.ordinal; });
  std::sort(set->open.begin(), set->open.end(), [](const auto& a, const auto& b) {
    return a->meta.starting_hash_key < b->meta.starting_hash_key;
  });
  return std::shared_ptr<const ShardSet>(std::move(set));
}

StatusOr<std::shared_ptr<Stream>> BrokerImpl::BuildStream(StreamMeta meta) {
  auto stream = std::make_shared<Stream>();
  stream->id = meta.id;
  RIFFLE_ASSIGN_OR_RETURN(stream->shard_set, BuildShardSet(meta, nullptr));
  stream->meta = std::move(meta);
  return stream;
}

std::string BrokerImpl::Arn(const RequestContext& ctx, const std::string& name) const {
  return fmt::format("arn:aws:kinesis:{}:{}:stream/{}", ctx.region, ctx.account, name);
}

std::string BrokerImpl::NotFound(const RequestContext& ctx, const std::string& name) const {
  return fmt::format("Stream {} under account {} not found.", name, ctx.account);
}

std::shared_ptr<Stream> BrokerImpl::FindStream(const std::string& name) const {
  std::shared_lock lock(streams_mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

std::shared_ptr<Stream> BrokerImpl::FindStreamById(uint64_t id) const {
  std::shared_lock lock(streams_mu_);
  auto it = streams_by_id_.find(id);
  return it == streams_by_id_.end() ? nullptr : it->second;
}

void BrokerImpl::ValidateStreamRef(Validator& v, const StreamRef& ref) {
  v.Name(ref.name, "streamName");
  if (v.Length(ref.arn, "streamARN", 1, 2048)) {
    v.Pattern(ref.arn, "streamARN", "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
              !ref.arn || ParseStreamArn(*ref.arn).has_value());
  }
}

std::string BrokerImpl::NameOf(const StreamRef& ref) {
  if (ref.name) {
    return *ref.name;
  }
  std::optional<ParsedArn> arn = ref.arn ? ParseStreamArn(*ref.arn) : std::nullopt;
  return arn ? arn->stream : "";
}

StatusOr<uint32_t> BrokerImpl::ResolveShardId(const RequestContext& ctx, const StreamRef& ref,
                                              const std::string& shard_id) {
  std::optional<uint32_t> ordinal = storage::ParseShardId(shard_id);
  if (!ordinal) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Could not find shard {} in stream {} under account {}.", shard_id,
                              NameOf(ref), ctx.account));
  }
  return *ordinal;
}

StatusOr<std::shared_ptr<Stream>> BrokerImpl::ResolveStream(const RequestContext& ctx,
                                                            const StreamRef& ref) const {
  Validator v;
  ValidateStreamRef(v, ref);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  std::optional<ParsedArn> arn;
  if (ref.arn) {
    arn = ParseStreamArn(*ref.arn);
  }
  if (!ref.name && !ref.arn) {
    return Status(ErrorCode::kInvalidArgument, "Either StreamName or StreamARN must be provided.");
  }
  if (ref.name && arn && *ref.name != arn->stream) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("StreamName {} and StreamARN {} do not name the same stream.",
                              *ref.name, *ref.arn));
  }
  const std::string& name = ref.name ? *ref.name : arn->stream;
  if (arn && (arn->account != ctx.account || arn->region != ctx.region)) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Stream {} under account {} not found.", name, arn->account));
  }
  std::shared_ptr<Stream> stream = FindStream(name);
  if (!stream) {
    return Status(ErrorCode::kResourceNotFound, NotFound(ctx, name));
  }
  return stream;
}

Status BrokerImpl::CommitMeta(Stream& stream, StreamMeta meta,
                              std::shared_ptr<const ShardSet> shards) {
  storage::Store::CatalogChange change;
  change.puts.emplace_back(std::string(storage::kCatalogStreamPrefix) + meta.name,
                           storage::EncodeStreamMeta(meta));
  RIFFLE_RETURN_IF_ERROR(store_.WriteCatalog(change));
  std::lock_guard lock(stream.mu);
  stream.meta = std::move(meta);
  if (shards) {
    stream.shard_set = std::move(shards);
  }
  return Status();
}

Status BrokerImpl::CreateStream(const RequestContext& ctx, const CreateStreamRequest& req) {
  Validator v;
  v.Required(req.stream_name.has_value(), "streamName");
  v.Name(req.stream_name, "streamName");
  v.Range(req.shard_count, "shardCount", 1, 100000);
  v.Enum(req.stream_mode, "streamModeDetails.streamMode", kStreamModes);
  v.Range(req.max_record_size_kib, "maxRecordSizeInKiB", kMinMaxRecordSizeKiB,
          kMaxMaxRecordSizeKiB);
  v.TagMap(req.tags, "tags", 0, 200);
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
  const uint32_t shard_count =
      on_demand ? kOnDemandDefaultShards : static_cast<uint32_t>(*req.shard_count);

  std::lock_guard create_lock(create_mu_);
  if (FindStream(*req.stream_name)) {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Stream {} under account {} already exists.", *req.stream_name,
                              ctx.account));
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
  meta.status = "ACTIVE";  // Riffle has nothing to wait for: the column families exist below
  meta.mode = on_demand ? "ON_DEMAND" : "PROVISIONED";
  meta.created_ms = now;
  meta.tags = req.tags;
  meta.max_record_size_kib =
      static_cast<int32_t>(req.max_record_size_kib.value_or(kMinMaxRecordSizeKiB));
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
  // Column families first, catalog last: a crash in between leaves unreferenced column
  // families, which the next start drops.
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, BuildStream(meta));
  storage::Store::CatalogChange change;
  change.puts.emplace_back(std::string(storage::kCatalogStreamPrefix) + meta.name,
                           storage::EncodeStreamMeta(meta));
  std::string next_id;
  AppendBigEndian64(next_id, meta.id + 1);
  change.puts.emplace_back(std::string(storage::kCatalogNextStreamIdKey), next_id);
  RIFFLE_RETURN_IF_ERROR(store_.WriteCatalog(change));
  ++next_stream_id_;
  std::unique_lock lock(streams_mu_);
  streams_by_id_[stream->id] = stream;
  streams_[meta.name] = std::move(stream);
  return Status();
}

Status BrokerImpl::DeleteStream(const RequestContext& ctx, const DeleteStreamRequest& req) {
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  std::lock_guard create_lock(create_mu_);
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
  // column family drops below (the next start drops what is left).
  storage::Store::CatalogChange change;
  change.deletes.push_back(std::string(storage::kCatalogStreamPrefix) + meta.name);
  RIFFLE_RETURN_IF_ERROR(store_.WriteCatalog(change));
  {
    std::unique_lock lock(streams_mu_);
    streams_.erase(meta.name);
    streams_by_id_.erase(stream->id);
  }
  for (const auto& shard : stream->shards()->all) {
    RIFFLE_RETURN_IF_ERROR(store_.DropShard(stream->id, shard->meta.ordinal));
  }
  return Status();
}

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
    std::shared_lock lock(streams_mu_);
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
    out.streams.push_back(StreamSummary{meta.name, Arn(ctx, meta.name), meta.status, meta.mode,
                                        meta.created_ms});
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
  std::optional<ShardFilter> filter = req.shard_filter;
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
    // payload: stream id | first ordinal of the page | only open shards | stream name
    RIFFLE_ASSIGN_OR_RETURN(std::string payload,
                            OpenPageToken(TokenKind::kListShards, *req.next_token));
    if (payload.size() < 17) {
      return Status(ErrorCode::kInvalidArgument, "Invalid NextToken.");
    }
    uint64_t stream_id = ReadBigEndian64(payload, 0);
    after = static_cast<uint32_t>(ReadBigEndian64(payload, 8));
    if (payload[16] != 0) {
      filter = ShardFilter{std::string("AT_LATEST"), std::nullopt, std::nullopt};
    }
    std::shared_ptr<Stream> stream = FindStreamById(stream_id);
    if (!stream) {
      return Status(ErrorCode::kResourceNotFound, NotFound(ctx, payload.substr(17)));
    }
    ref.name = stream->Snapshot().name;
  } else if (!req.stream.name && !req.stream.arn) {
    return Status(ErrorCode::kInvalidArgument, "Either NextToken or StreamName should be provided.");
  }
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, ref));
  StreamMeta meta = stream->Snapshot();
  if (meta.status == "CREATING" || meta.status == "DELETING") {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Stream {} under account {} is in {} state.", meta.name, ctx.account,
                              meta.status));
  }
  if (req.exclusive_start_shard_id) {
    std::optional<uint32_t> ordinal = storage::ParseShardId(*req.exclusive_start_shard_id);
    after = ordinal ? *ordinal + 1 : 0;
  }
  bool only_open = false;
  std::optional<int64_t> open_at;  // AT_TIMESTAMP: shards open at that time
  if (filter) {
    const std::string& type = *filter->type;
    if (type == "AFTER_SHARD_ID") {
      if (!filter->shard_id) {
        return Status(ErrorCode::kInvalidArgument,
                      "ShardId must be provided for the AFTER_SHARD_ID ShardFilter type.");
      }
      std::optional<uint32_t> ordinal = storage::ParseShardId(*filter->shard_id);
      after = ordinal ? *ordinal + 1 : 0;
    } else if (type == "AT_LATEST") {
      only_open = true;
    } else if (type == "AT_TIMESTAMP" || type == "FROM_TIMESTAMP") {
      if (!filter->timestamp_ms) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("Timestamp must be provided for the {} ShardFilter type.", type));
      }
      if (type == "AT_TIMESTAMP") {
        open_at = filter->timestamp_ms;
      }
    }
  }
  const size_t page = static_cast<size_t>(req.max_results.value_or(1000));
  ListShardsResult out;
  for (const auto& shard : stream->shards()->all) {
    if (after && shard->meta.ordinal < *after) {
      continue;
    }
    if (only_open && shard->meta.ending_position) {
      continue;
    }
    if (open_at && shard->meta.created_ms > *open_at && shard->meta.parent_ordinal) {
      continue;  // created by a reshard after that time (the first shards count from the start)
    }
    if (out.shards.size() == page) {
      std::string payload;
      AppendBigEndian64(payload, stream->id);
      AppendBigEndian64(payload, shard->meta.ordinal);  // the first shard of the next page
      payload.push_back(only_open ? 1 : 0);
      payload += meta.name;
      out.next_token = SignPageToken(TokenKind::kListShards, payload);
      break;
    }
    out.shards.push_back(DescribeShard(*shard));
  }
  return out;
}

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
  std::lock_guard control(stream->control_mu);
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

Status BrokerImpl::AddTagsToStream(const RequestContext& ctx, const AddTagsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  if (v.Required(req.tags.has_value(), "tags")) {
    v.TagMap(*req.tags, "tags", 1, 200);
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  std::lock_guard control(stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(CheckTagCharacters(
      TagTexts(*req.tags),
      fmt::format("add tags to stream {} under account {}", meta.name, ctx.account)));
  if (meta.status == "CREATING" || meta.status == "DELETING") {
    return RequireActive(ctx, meta);
  }
  for (const auto& [key, value] : *req.tags) {
    meta.tags[key] = value;
  }
  if (meta.tags.size() > kMaxTagsPerStream) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Failed to add tags to stream {} under account {} because a given "
                              "stream cannot have more than {} tags associated with it.",
                              meta.name, ctx.account, kMaxTagsPerStream));
  }
  return CommitMeta(*stream, std::move(meta));
}

Status BrokerImpl::RemoveTagsFromStream(const RequestContext& ctx, const RemoveTagsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  if (v.Required(req.tag_keys.has_value(), "tagKeys")) {
    v.StringList(*req.tag_keys, "tagKeys", 1, 50, 1, 128);
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  std::lock_guard control(stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(CheckTagCharacters(
      std::vector<std::string_view>(req.tag_keys->begin(), req.tag_keys->end()),
      fmt::format("remove tags from stream {} under account {}", meta.name, ctx.account)));
  if (meta.status == "CREATING" || meta.status == "DELETING") {
    return RequireActive(ctx, meta);
  }
  for (const std::string& key : *req.tag_keys) {
    meta.tags.erase(key);  // unknown keys are ignored
  }
  return CommitMeta(*stream, std::move(meta));
}

StatusOr<ListTagsResult> BrokerImpl::ListTagsForStream(const RequestContext& ctx,
                                                       const ListTagsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Length(req.exclusive_start_tag_key, "exclusiveStartTagKey", 1, 128);
  v.Range(req.limit, "limit", 1, 50);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  StreamMeta meta = stream->Snapshot();
  const size_t limit = static_cast<size_t>(req.limit.value_or(50));
  ListTagsResult out;
  auto it = req.exclusive_start_tag_key ? meta.tags.upper_bound(*req.exclusive_start_tag_key)
                                        : meta.tags.begin();
  for (; it != meta.tags.end(); ++it) {
    if (out.tags.size() == limit) {
      out.has_more_tags = true;
      break;
    }
    out.tags.emplace_back(it->first, it->second);
  }
  return out;
}

StatusOr<EnhancedMonitoringResult> BrokerImpl::ChangeMonitoring(
    const RequestContext& ctx, const EnhancedMonitoringRequest& req, bool enable) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  if (v.Required(req.shard_level_metrics.has_value(), "shardLevelMetrics")) {
    v.Count(req.shard_level_metrics->size(), "shardLevelMetrics", 1, 7);
    for (const std::string& metric : *req.shard_level_metrics) {
      v.Enum(metric, "shardLevelMetrics.member", kMetricNames);
    }
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  std::lock_guard control(stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  EnhancedMonitoringResult out;
  out.stream_name = meta.name;
  out.stream_arn = Arn(ctx, meta.name);
  out.current_shard_level_metrics = meta.shard_level_metrics;
  std::vector<std::string> requested = ExpandMetrics(*req.shard_level_metrics);
  std::set<std::string> desired(meta.shard_level_metrics.begin(), meta.shard_level_metrics.end());
  for (const std::string& metric : requested) {
    if (enable) {
      desired.insert(metric);
    } else {
      desired.erase(metric);
    }
  }
  meta.shard_level_metrics.assign(desired.begin(), desired.end());
  out.desired_shard_level_metrics = meta.shard_level_metrics;
  RIFFLE_RETURN_IF_ERROR(CommitMeta(*stream, std::move(meta)));
  return out;
}

StatusOr<EnhancedMonitoringResult> BrokerImpl::EnableEnhancedMonitoring(
    const RequestContext& ctx, const EnhancedMonitoringRequest& req) {
  return ChangeMonitoring(ctx, req, /*enable=*/true);
}

StatusOr<EnhancedMonitoringResult> BrokerImpl::DisableEnhancedMonitoring(
    const RequestContext& ctx, const EnhancedMonitoringRequest& req) {
  return ChangeMonitoring(ctx, req, /*enable=*/false);
}

Status BrokerImpl::ChangeEncryption(const RequestContext& ctx, const EncryptionRequest& req,
                                    bool start) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.encryption_type.has_value(), "encryptionType");
  v.Enum(req.encryption_type, "encryptionType", {"NONE", "KMS"});
  v.Required(req.key_id.has_value(), "keyId");
  v.Length(req.key_id, "keyId", 1, 2048);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  if (*req.encryption_type != "KMS") {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Invalid EncryptionType {}. Only KMS is supported.",
                              *req.encryption_type));
  }
  std::lock_guard control(stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  // The setting is recorded and reported; Riffle never calls a KMS.
  meta.encryption_type = start ? "KMS" : "NONE";
  meta.key_id = start ? *req.key_id : "";
  return CommitMeta(*stream, std::move(meta));
}

Status BrokerImpl::StartStreamEncryption(const RequestContext& ctx, const EncryptionRequest& req) {
  return ChangeEncryption(ctx, req, /*start=*/true);
}

Status BrokerImpl::StopStreamEncryption(const RequestContext& ctx, const EncryptionRequest& req) {
  return ChangeEncryption(ctx, req, /*start=*/false);
}

Status BrokerImpl::UpdateStreamMode(const RequestContext& ctx,
                                    const UpdateStreamModeRequest& req) {
  Validator v;
  v.Required(req.stream_arn.has_value(), "streamARN");
  v.Required(req.stream_mode.has_value(), "streamModeDetails.streamMode");
  v.Enum(req.stream_mode, "streamModeDetails.streamMode", kStreamModes);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream,
                          ResolveStream(ctx, StreamRef{std::nullopt, req.stream_arn}));
  std::lock_guard control(stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  if (meta.mode == *req.stream_mode) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Stream {} under account {} is already in {} mode.", meta.name,
                              ctx.account, meta.mode));
  }
  meta.mode = *req.stream_mode;
  return CommitMeta(*stream, std::move(meta));
}

Status BrokerImpl::UpdateMaxRecordSize(const RequestContext& ctx,
                                       const UpdateMaxRecordSizeRequest& req) {
  Validator v;
  v.Required(req.stream_arn.has_value(), "streamARN");
  v.Required(req.max_record_size_kib.has_value(), "maxRecordSizeInKiB");
  v.Range(req.max_record_size_kib, "maxRecordSizeInKiB", kMinMaxRecordSizeKiB,
          kMaxMaxRecordSizeKiB);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream,
                          ResolveStream(ctx, StreamRef{std::nullopt, req.stream_arn}));
  std::lock_guard control(stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  meta.max_record_size_kib = static_cast<int32_t>(*req.max_record_size_kib);
  return CommitMeta(*stream, std::move(meta));
}

StatusOr<DescribeLimitsResult> BrokerImpl::DescribeLimits(const RequestContext&) {
  DescribeLimitsResult out;
  out.shard_limit = options_.shard_limit;
  std::shared_lock lock(streams_mu_);
  for (const auto& [name, stream] : streams_) {
    StreamMeta meta = stream->Snapshot();
    out.open_shard_count += static_cast<int32_t>(stream->shards()->open.size());
    out.on_demand_stream_count += meta.mode == "ON_DEMAND" ? 1 : 0;
  }
  return out;
}

void BrokerImpl::TrimExpiredRecords() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::shared_lock lock(streams_mu_);
    for (const auto& [name, stream] : streams_) {
      streams.push_back(stream);
    }
  }
  const int64_t now = clock_.NowMillis();
  for (const auto& stream : streams) {
    const int64_t cutoff = now - int64_t{stream->Snapshot().retention_hours} * 3600 * 1000;
    for (const auto& shard : stream->shards()->all) {
      shard->log->TrimBefore(cutoff).IgnoreError();  // retried on the next pass
    }
    DropExpiredShards(*stream, cutoff).IgnoreError();  // retried on the next pass
  }
}

Status BrokerImpl::DropExpiredShards(Stream& stream, int64_t cutoff_ms) {
  std::lock_guard control(stream.control_mu);
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
  // After the catalog forgets them; a crash in between leaves column families the next start
  // drops as unreferenced.
  for (uint32_t ordinal : expired) {
    RIFFLE_RETURN_IF_ERROR(store_.DropShard(stream.id, ordinal));
  }
  return Status();
}

}  // namespace riffle::broker
