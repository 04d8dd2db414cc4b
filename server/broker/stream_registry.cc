// The stream registry: loading the catalog at start, the in-memory streams and their shard
// sets, resolving a StreamName/StreamARN to a stream, publishing a stream's new meta, and the
// disk the streams take.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

using storage::StreamMeta;

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

}  // namespace

Status RequireActive(const RequestContext& ctx, const StreamMeta& meta) {
  if (meta.status != "ACTIVE") {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Stream {} under account {} not ACTIVE, instead in state {}",
                              meta.name, ctx.account, meta.status));
  }
  return Status();
}

Status BrokerImpl::AdmitCall(const RequestContext& ctx, std::string_view operation,
                             std::string_view stream) {
  if (!options_.shard_quotas) {
    return Status();
  }
  return call_limits_.Admit(ctx.account, operation, stream, clock_.NowMillis());
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
  auto broker = std::make_unique<BrokerImpl>(store, clock, options, std::move(*secret), observer);
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
  // Nothing else has the broker yet; the locks are taken as everywhere else, uncontended.
  MutexLock create_lock(&create_mu_);
  RIFFLE_ASSIGN_OR_RETURN(std::optional<std::string> next_id,
                          store_.GetCatalog(storage::kCatalogNextStreamIdKey));
  if (next_id && next_id->size() == 8) {
    next_stream_id_ = ReadBigEndian64(*next_id, 0);
  }
  RIFFLE_ASSIGN_OR_RETURN(auto entries, store_.ScanCatalog(storage::kCatalogStreamPrefix));
  std::set<storage::Store::ShardRef> live;
  for (const auto& [key, value] : entries) {
    std::optional<StreamMeta> meta = storage::DecodeStreamMeta(value);
    if (!meta) {
      return Status(ErrorCode::kInternalFailure, "corrupt catalog entry " + key);
    }
    for (const storage::ShardMeta& shard : meta->shards) {
      live.insert({meta->id, shard.ordinal});
    }
    const std::string name = meta->name;
    RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, BuildStream(std::move(*meta)));
    WriterMutexLock lock(&streams_mu_);
    streams_by_id_[stream->id] = stream;
    streams_[name] = std::move(stream);
  }
  RIFFLE_RETURN_IF_ERROR(LoadGroups());
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

std::vector<uint32_t> ShardSet::Ordinals() const {
  std::vector<uint32_t> ordinals;
  ordinals.reserve(all.size());
  for (const auto& shard : all) {
    ordinals.push_back(shard->meta.ordinal);
  }
  return ordinals;
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
      shard->readers = existing->readers;
      MutexLock lock(&existing->quota_mu);
      MutexLock fresh(&shard->quota_mu);  // not shared yet: uncontended
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
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<const ShardSet> shards, BuildShardSet(meta, nullptr));
  {
    MutexLock lock(&stream->mu);  // not shared yet: uncontended
    stream->shard_set = std::move(shards);
    stream->meta = std::move(meta);
  }
  return stream;
}

std::string BrokerImpl::Arn(const RequestContext& ctx, const std::string& name) const {
  return fmt::format("arn:aws:kinesis:{}:{}:stream/{}", ctx.region, ctx.account, name);
}

std::string BrokerImpl::NotFound(const RequestContext& ctx, const std::string& name) const {
  return fmt::format("Stream {} under account {} not found.", name, ctx.account);
}

std::shared_ptr<Stream> BrokerImpl::FindStream(const std::string& name) const {
  ReaderMutexLock lock(&streams_mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Stream>> BrokerImpl::LiveStreams() const {
  std::vector<std::shared_ptr<Stream>> streams;
  ReaderMutexLock lock(&streams_mu_);
  streams.reserve(streams_.size());
  for (const auto& [name, stream] : streams_) {
    streams.push_back(stream);
  }
  return streams;
}

std::shared_ptr<Stream> BrokerImpl::FindStreamById(uint64_t id) const {
  ReaderMutexLock lock(&streams_mu_);
  auto it = streams_by_id_.find(id);
  return it == streams_by_id_.end() ? nullptr : it->second;
}

std::vector<StreamDisk> BrokerImpl::StreamDiskUsage() {
  std::vector<std::pair<std::string, uint64_t>> streams;  // name, id
  {
    ReaderMutexLock lock(&streams_mu_);
    for (const auto& [name, stream] : streams_) {
      streams.emplace_back(name, stream->id);
    }
  }
  std::vector<StreamDisk> out;
  out.reserve(streams.size());
  for (const auto& [name, id] : streams) {
    out.push_back(StreamDisk{.stream_name = name, .bytes = store_.StreamDiskBytes(id)});
  }
  return out;
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
  MutexLock lock(&stream.mu);
  stream.meta = std::move(meta);
  if (shards) {
    stream.shard_set = std::move(shards);
  }
  return Status();
}

}  // namespace riffle::broker
