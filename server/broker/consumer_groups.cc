// Consumer groups: per stream, a checkpoint and a lease per shard, kept in the catalog under
// group/<stream id>/<name> (storage/format.h). The lease counter fences workers: a checkpoint is
// accepted only under the shard's current lease, so a worker that stalled past its lease and
// lost the shard cannot move the checkpoint of the worker that took it over.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

constexpr int64_t kMinLeaseMs = 1000;
constexpr int64_t kMaxLeaseMs = 3'600'000;

storage::GroupShardMeta& EntryFor(storage::GroupMeta& group, uint32_t ordinal) {
  auto it = std::lower_bound(
      group.shards.begin(), group.shards.end(), ordinal,
      [](const storage::GroupShardMeta& s, uint32_t o) { return s.shard_ordinal < o; });
  if (it == group.shards.end() || it->shard_ordinal != ordinal) {
    it = group.shards.insert(it, storage::GroupShardMeta{.shard_ordinal = ordinal,
                                                         .checkpoint = 0,
                                                         .lease_owner = "",
                                                         .lease_expires_ms = 0,
                                                         .lease_counter = 0});
  }
  return *it;
}

const storage::GroupShardMeta* FindEntry(const storage::GroupMeta& group, uint32_t ordinal) {
  for (const storage::GroupShardMeta& entry : group.shards) {
    if (entry.shard_ordinal == ordinal) {
      return &entry;
    }
  }
  return nullptr;
}

uint64_t CheckpointOf(const storage::GroupMeta& group, uint32_t ordinal) {
  const storage::GroupShardMeta* entry = FindEntry(group, ordinal);
  return entry != nullptr ? entry->checkpoint : 0;
}

// A closed shard is finished once the group has processed its last record.
bool Finished(const Shard& shard, const storage::GroupMeta& group) {
  return shard.meta.ending_position &&
         CheckpointOf(group, shard.meta.ordinal) >= *shard.meta.ending_position;
}

std::string CheckpointText(uint32_t ordinal, uint64_t position) {
  return position == 0 ? "" : storage::FormatSequenceNumber(ordinal, position);
}

}  // namespace

Status CheckpointPastShardEnd(std::string_view sequence_number, std::string_view shard_id) {
  return Status(ErrorCode::kInvalidArgument,
                fmt::format("Sequence number {} is not a record of shard {}.", sequence_number,
                            shard_id));
}

StatusOr<BrokerImpl::ResolvedGroup> BrokerImpl::ResolveGroup(const RequestContext& ctx,
                                                             const GroupRef& ref) const {
  Validator v;
  ValidateStreamRef(v, ref.stream);
  v.Required(ref.group_name.has_value(), "groupName");
  v.Name(ref.group_name, "groupName");
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, ref.stream));
  std::shared_ptr<const ShardSet> shards = stream->shards();
  GroupKey key{stream->id, *ref.group_name};
  return ResolvedGroup{std::move(stream), std::move(shards), std::move(key)};
}

StatusOr<BrokerImpl::ResolvedGroupShard> BrokerImpl::ResolveGroupShard(
    const RequestContext& ctx, const GroupRef& ref,
    const std::optional<std::string>& shard_id) const {
  RIFFLE_ASSIGN_OR_RETURN(ResolvedGroup group, ResolveGroup(ctx, ref));
  if (!shard_id) {
    return Status(ErrorCode::kValidation,
                  "1 validation error detected: Value null at 'shardId' failed to satisfy "
                  "constraint: Member must not be null");
  }
  std::optional<uint32_t> ordinal = storage::ParseShardId(*shard_id);
  std::shared_ptr<Shard> shard = ordinal ? group.shards->Find(*ordinal) : nullptr;
  if (!shard) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Shard {} in stream {} under account {} does not exist", *shard_id,
                              group.stream->Snapshot().name, ctx.account));
  }
  return ResolvedGroupShard{std::move(group), std::move(shard)};
}

StatusOr<storage::GroupMeta*> BrokerImpl::FindGroupLocked(const RequestContext& ctx,
                                                          const ResolvedGroup& group) {
  auto it = groups_.find(group.key);
  if (it == groups_.end()) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Consumer group {} of stream {} under account {} not found.",
                              group.key.second, group.stream->Snapshot().name, ctx.account));
  }
  return &it->second;
}

Status BrokerImpl::CommitGroupLocked(const GroupKey& key, storage::GroupMeta meta) {
  storage::Store::CatalogChange change;
  change.puts.emplace_back(storage::GroupCatalogKey(key.first, key.second),
                           storage::EncodeGroupMeta(meta));
  RIFFLE_RETURN_IF_ERROR(store_.WriteCatalog(change));
  groups_[key] = std::move(meta);
  return Status();
}

Status BrokerImpl::CreateConsumerGroup(const RequestContext& ctx, const CreateGroupRequest& req) {
  Validator v;
  v.Enum(req.starting_position, "startingPosition", {"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"});
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  const std::string start = req.starting_position.value_or("TRIM_HORIZON");
  if ((start == "AT_TIMESTAMP") != req.timestamp_ms.has_value()) {
    return Status(ErrorCode::kInvalidArgument,
                  "A Timestamp is required with starting position AT_TIMESTAMP, and only then.");
  }
  RIFFLE_ASSIGN_OR_RETURN(ResolvedGroup group, ResolveGroup(ctx, req.group));
  const storage::StreamMeta stream = group.stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, stream));
  const int64_t now = clock_.NowMillis();
  storage::GroupMeta meta{.name = *req.group.group_name, .created_ms = now, .shards = {}};
  // The starting position applies to the shards of today: as a checkpoint right before it.
  // TRIM_HORIZON needs none, and shards created later start at their first record, so that
  // nothing written after a reshard is skipped.
  if (start != "TRIM_HORIZON") {
    for (const std::shared_ptr<Shard>& shard : group.shards->all) {
      RIFFLE_ASSIGN_OR_RETURN(uint64_t offset, StartOffset(ctx, stream, *shard, start, std::nullopt,
                                                           req.timestamp_ms, now));
      EntryFor(meta, shard->meta.ordinal).checkpoint = offset;
    }
  }
  MutexLock lock(&groups_mu_);
  if (groups_.contains(group.key)) {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Consumer group {} of stream {} under account {} already exists.",
                              meta.name, stream.name, ctx.account));
  }
  spdlog::info("consumer group {} created on stream {} at {}", meta.name, stream.name, start);
  return CommitGroupLocked(group.key, std::move(meta));
}

Status BrokerImpl::DeleteConsumerGroup(const RequestContext& ctx, const GroupRef& req) {
  RIFFLE_ASSIGN_OR_RETURN(ResolvedGroup group, ResolveGroup(ctx, req));
  MutexLock lock(&groups_mu_);
  RIFFLE_RETURN_IF_ERROR(FindGroupLocked(ctx, group).status());
  storage::Store::CatalogChange change;
  change.deletes.push_back(storage::GroupCatalogKey(group.key.first, group.key.second));
  RIFFLE_RETURN_IF_ERROR(store_.WriteCatalog(change));
  groups_.erase(group.key);
  return Status();
}

GroupShardDescription BrokerImpl::DescribeGroupShard(const ShardSet& shards, const Shard& shard,
                                                     const storage::GroupMeta& group) const {
  GroupShardDescription out;
  out.shard_id = shard.shard_id;
  for (std::optional<uint32_t> parent :
       {shard.meta.parent_ordinal, shard.meta.adjacent_parent_ordinal}) {
    if (parent && shards.Find(*parent) != nullptr) {
      out.parent_shard_ids.push_back(storage::FormatShardId(*parent));
    }
  }
  const uint64_t checkpoint = CheckpointOf(group, shard.meta.ordinal);
  out.checkpoint = CheckpointText(shard.meta.ordinal, checkpoint);
  out.closed = shard.meta.ending_position.has_value();
  out.finished = Finished(shard, group);
  if (const storage::GroupShardMeta* entry = FindEntry(group, shard.meta.ordinal)) {
    out.lease_owner = entry->lease_owner;
    out.lease_expires_ms = entry->lease_expires_ms;
    out.lease_counter = entry->lease_counter;
  }
  // The checkpoint is a position (offset + 1 of the last record processed), so the first
  // unprocessed record is at offset `checkpoint`.
  const PositionLag lag = LagAt(shard, checkpoint);
  out.lag_records = lag.records;
  out.lag_ms = lag.ms;
  return out;
}

StatusOr<GroupDescription> BrokerImpl::DescribeConsumerGroup(const RequestContext& ctx,
                                                             const GroupRef& req) {
  RIFFLE_ASSIGN_OR_RETURN(ResolvedGroup group, ResolveGroup(ctx, req));
  storage::GroupMeta meta;
  {
    MutexLock lock(&groups_mu_);
    RIFFLE_ASSIGN_OR_RETURN(storage::GroupMeta * found, FindGroupLocked(ctx, group));
    meta = *found;
  }
  GroupDescription out;
  out.group_name = meta.name;
  out.stream_name = group.stream->Snapshot().name;
  out.creation_time_ms = meta.created_ms;
  for (const std::shared_ptr<Shard>& shard : group.shards->all) {
    out.shards.push_back(DescribeGroupShard(*group.shards, *shard, meta));
  }
  return out;
}

StatusOr<ShardLease> BrokerImpl::LeaseShard(const RequestContext& ctx,
                                            const LeaseShardRequest& req) {
  Validator v;
  v.Required(req.owner.has_value(), "owner");
  v.Length(req.owner, "owner", 1, 256);
  v.Required(req.lease_duration_ms.has_value(), "leaseDurationMs");
  v.Range(req.lease_duration_ms, "leaseDurationMs", kMinLeaseMs, kMaxLeaseMs);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(ResolvedGroupShard target,
                          ResolveGroupShard(ctx, req.group, req.shard_id));
  const auto& [group, shard] = target;
  MutexLock lock(&groups_mu_);
  RIFFLE_ASSIGN_OR_RETURN(storage::GroupMeta * found, FindGroupLocked(ctx, group));
  // Order per partition key across a reshard: a child's records come after its parents'.
  for (std::optional<uint32_t> parent_ordinal :
       {shard->meta.parent_ordinal, shard->meta.adjacent_parent_ordinal}) {
    std::shared_ptr<Shard> parent = parent_ordinal ? group.shards->Find(*parent_ordinal) : nullptr;
    if (parent && !Finished(*parent, *found)) {
      return Status(ErrorCode::kResourceInUse,
                    fmt::format("Shard {} of consumer group {} waits until its parent shard {} "
                                "is processed to its end.",
                                shard->shard_id, found->name, parent->shard_id));
    }
  }
  storage::GroupMeta meta = *found;
  storage::GroupShardMeta& entry = EntryFor(meta, shard->meta.ordinal);
  const int64_t now = clock_.NowMillis();
  const bool held = !entry.lease_owner.empty() && entry.lease_expires_ms > now;
  if (held && entry.lease_owner != *req.owner && !req.steal) {
    return Status(
        ErrorCode::kResourceInUse,
        fmt::format("Shard {} of consumer group {} is leased to {} for {} ms more.",
                    shard->shard_id, meta.name, entry.lease_owner, entry.lease_expires_ms - now));
  }
  const bool granted = !held || entry.lease_owner != *req.owner;
  if (granted) {
    if (held) {
      spdlog::info("consumer group {}: shard {} taken from {} by {}", meta.name, shard->shard_id,
                   entry.lease_owner, *req.owner);
    }
    entry.lease_owner = *req.owner;
    ++entry.lease_counter;
  }
  entry.lease_expires_ms = now + *req.lease_duration_ms;
  ShardLease lease{.shard_id = shard->shard_id,
                   .lease_counter = entry.lease_counter,
                   .lease_expires_ms = entry.lease_expires_ms,
                   .checkpoint = CheckpointText(shard->meta.ordinal, entry.checkpoint)};
  if (granted) {
    spdlog::info("consumer group {}: shard {} leased to {} (lease {})", meta.name, shard->shard_id,
                 *req.owner, lease.lease_counter);
  }
  RIFFLE_RETURN_IF_ERROR(CommitGroupLocked(group.key, std::move(meta)));
  return lease;
}

Status BrokerImpl::ReleaseShardLease(const RequestContext& ctx, const ReleaseLeaseRequest& req) {
  Validator v;
  v.Required(req.lease_counter.has_value(), "leaseCounter");
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(ResolvedGroupShard target,
                          ResolveGroupShard(ctx, req.group, req.shard_id));
  const auto& [group, shard] = target;
  MutexLock lock(&groups_mu_);
  RIFFLE_ASSIGN_OR_RETURN(storage::GroupMeta * found, FindGroupLocked(ctx, group));
  storage::GroupMeta meta = *found;
  storage::GroupShardMeta& entry = EntryFor(meta, shard->meta.ordinal);
  if (entry.lease_counter != *req.lease_counter) {
    return Status();  // already taken over: nothing of this holder's is left to release
  }
  entry.lease_expires_ms = 0;
  return CommitGroupLocked(group.key, std::move(meta));
}

Status BrokerImpl::Checkpoint(const RequestContext& ctx, const CheckpointRequest& req) {
  Validator v;
  v.Required(req.lease_counter.has_value(), "leaseCounter");
  v.Required(req.sequence_number.has_value(), "sequenceNumber");
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(ResolvedGroupShard target,
                          ResolveGroupShard(ctx, req.group, req.shard_id));
  const auto& [group, shard] = target;
  std::optional<storage::SequencePosition> position =
      storage::ParseSequenceNumber(*req.sequence_number);
  if (!position || position->shard_ordinal != shard->meta.ordinal ||
      (options_.shard_ends_known && position->position > shard->log->committed_end())) {
    return CheckpointPastShardEnd(*req.sequence_number, shard->shard_id);
  }
  MutexLock lock(&groups_mu_);
  RIFFLE_ASSIGN_OR_RETURN(storage::GroupMeta * found, FindGroupLocked(ctx, group));
  storage::GroupMeta meta = *found;
  storage::GroupShardMeta& entry = EntryFor(meta, shard->meta.ordinal);
  if (entry.lease_counter != *req.lease_counter) {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Lease {} on shard {} of consumer group {} was taken over (lease {} "
                              "of {}): this worker may not checkpoint the shard any more.",
                              *req.lease_counter, shard->shard_id, meta.name, entry.lease_counter,
                              entry.lease_owner));
  }
  if (position->position < entry.checkpoint) {
    return Status(
        ErrorCode::kInvalidArgument,
        fmt::format("Sequence number {} is before the checkpoint {} of shard {}.",
                    *req.sequence_number, CheckpointText(shard->meta.ordinal, entry.checkpoint),
                    shard->shard_id));
  }
  entry.checkpoint = position->position;
  return CommitGroupLocked(group.key, std::move(meta));
}

std::vector<GroupLag> BrokerImpl::ConsumerGroupLags() {
  std::map<GroupKey, storage::GroupMeta> groups;
  {
    MutexLock lock(&groups_mu_);
    groups = groups_;
  }
  std::vector<GroupLag> out;
  for (const auto& [key, group] : groups) {
    std::shared_ptr<Stream> stream = FindStreamById(key.first);
    if (!stream) {
      continue;
    }
    const std::string stream_name = stream->Snapshot().name;
    std::shared_ptr<const ShardSet> shards = stream->shards();
    for (const std::shared_ptr<Shard>& shard : shards->all) {
      GroupShardDescription described = DescribeGroupShard(*shards, *shard, group);
      out.push_back(GroupLag{.stream_name = stream_name,
                             .group_name = group.name,
                             .shard_id = shard->shard_id,
                             .records = described.lag_records,
                             .ms = described.lag_ms});
    }
  }
  return out;
}

std::optional<BrokerImpl::GroupKey> BrokerImpl::GroupKeyOf(std::string_view catalog_key) {
  // group/<16 hex digits>/<name>
  if (!catalog_key.starts_with(storage::kCatalogGroupPrefix)) {
    return std::nullopt;
  }
  const std::string_view id = catalog_key.substr(storage::kCatalogGroupPrefix.size());
  uint64_t stream_id = 0;
  if (id.size() < 18 ||
      std::from_chars(id.data(), id.data() + 16, stream_id, 16).ec != std::errc() ||
      id[16] != '/') {
    return std::nullopt;
  }
  return GroupKey{stream_id, std::string(id.substr(17))};
}

Status BrokerImpl::LoadGroups() {
  RIFFLE_ASSIGN_OR_RETURN(auto entries, store_.ScanCatalog(storage::kCatalogGroupPrefix));
  MutexLock lock(&groups_mu_);
  for (auto& [key, value] : entries) {
    std::optional<GroupKey> group_key = GroupKeyOf(key);
    std::optional<storage::GroupMeta> meta = storage::DecodeGroupMeta(value);
    if (!group_key || !meta) {
      return Status(ErrorCode::kInternalFailure, "corrupt catalog entry " + key);
    }
    groups_[*group_key] = std::move(*meta);
  }
  return Status();
}

void BrokerImpl::MirrorGroups(const storage::CatalogChange& change) {
  MutexLock lock(&groups_mu_);
  for (const auto& [key, value] : change.puts) {
    if (!key.starts_with(storage::kCatalogGroupPrefix)) {
      continue;
    }
    std::optional<GroupKey> group_key = GroupKeyOf(key);
    std::optional<storage::GroupMeta> meta = storage::DecodeGroupMeta(value);
    if (!group_key || !meta) {
      // The rest of the change (its streams) still applies; this group stays as it was.
      spdlog::error("consumer groups: corrupt replicated catalog entry {}", key);
      continue;
    }
    groups_[*group_key] = std::move(*meta);
  }
  for (const std::string& key : change.deletes) {
    if (std::optional<GroupKey> group_key = GroupKeyOf(key)) {
      groups_.erase(*group_key);
    }
  }
}

std::vector<std::string> BrokerImpl::GroupCatalogKeysOf(uint64_t stream_id) const {
  std::vector<std::string> keys;
  MutexLock lock(&groups_mu_);
  for (auto it = groups_.lower_bound(GroupKey{stream_id, ""});
       it != groups_.end() && it->first.first == stream_id; ++it) {
    keys.push_back(storage::GroupCatalogKey(stream_id, it->first.second));
  }
  return keys;
}

void BrokerImpl::ForgetGroups(uint64_t stream_id) {
  MutexLock lock(&groups_mu_);
  std::erase_if(groups_, [&](const auto& entry) { return entry.first.first == stream_id; });
}

}  // namespace riffle::broker
