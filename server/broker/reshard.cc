// Resharding: SplitShard, MergeShards, UpdateShardCount. Each change is one catalog write after
// the parents' writes have stopped (Stream::append_mu here, or BrokerOptions::shard_sealer where
// their leaders are): parents close at their last record and children, numbered after every
// existing shard, take the writes from then on. The children hold no records before that write,
// so a crash at any point leaves either the old shards or the new.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

using storage::HashKey;

Status RequireProvisioned(const storage::StreamMeta& meta, std::string_view operation) {
  if (meta.mode != "PROVISIONED") {
    return Status(ErrorCode::kValidation,
                  fmt::format("{} is not supported for stream {} because it is in ON_DEMAND "
                              "mode.",
                              operation, meta.name));
  }
  return Status();
}

// The open shard with `ordinal`, or the error Kinesis gives for it.
StatusOr<std::shared_ptr<Shard>> OpenShard(const RequestContext& ctx,
                                           const storage::StreamMeta& meta, const ShardSet& set,
                                           uint32_t ordinal) {
  std::shared_ptr<Shard> shard = set.Find(ordinal);
  if (!shard) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Could not find shard {} in stream {} under account {}.",
                              storage::FormatShardId(ordinal), meta.name, ctx.account));
  }
  if (shard->meta.ending_position) {
    return Status(ErrorCode::kResourceInUse,
                  fmt::format("Shard {} in stream {} under account {} has already been merged or "
                              "split, and thus is not eligible for merging or splitting.",
                              shard->shard_id, meta.name, ctx.account));
  }
  return shard;
}

// Uniform ranges for `count` shards, each with the open shards it overlaps as parents; nullopt
// when a range would need more than two parents (Kinesis lineage allows a parent and an
// adjacent parent only).
std::optional<std::vector<std::pair<std::pair<HashKey, HashKey>, std::vector<uint32_t>>>>
UniformLayout(const std::vector<std::pair<std::pair<HashKey, HashKey>, uint32_t>>& open,
              uint32_t count) {
  std::vector<std::pair<std::pair<HashKey, HashKey>, std::vector<uint32_t>>> layout;
  for (const auto& range : storage::EvenHashKeyRanges(count)) {
    std::vector<uint32_t> parents;
    for (const auto& [old_range, ordinal] : open) {
      if (old_range.first <= range.second && range.first <= old_range.second) {
        parents.push_back(ordinal);
      }
    }
    if (parents.size() > 2) {
      return std::nullopt;
    }
    layout.emplace_back(range, std::move(parents));
  }
  return layout;
}

}  // namespace

Status BrokerImpl::Reshard(Stream& stream, const std::vector<uint32_t>& parents,
                           const std::vector<NewShard>& children) {
  // A sealer stops the parents' writes where their records are, before the stream's appends
  // stop here: this node may be a parent's leader, whose queued writes must still commit.
  std::vector<uint64_t> sealed_ends;
  ShardSealer* sealer = options_.shard_sealer;
  if (sealer != nullptr) {
    RIFFLE_ASSIGN_OR_RETURN(sealed_ends, sealer->Seal(stream.id, parents));
  }
  Status resharded = CloseAndOpen(stream, parents, sealed_ends, children);
  if (sealer != nullptr) {
    sealer->Release(stream.id, parents);
  }
  return resharded;
}

Status BrokerImpl::CloseAndOpen(Stream& stream, const std::vector<uint32_t>& parents,
                                const std::vector<uint64_t>& sealed_ends,
                                const std::vector<NewShard>& children) {
  WriterMutexLock no_new_appends(&stream.append_mu);
  store_.pipeline().Drain();  // appends queued before the lock commit first
  storage::StreamMeta meta = stream.Snapshot();
  const std::shared_ptr<const ShardSet> current = stream.shards();
  const int64_t now = clock_.NowMillis();
  for (size_t i = 0; i < parents.size(); ++i) {
    auto it = std::find_if(meta.shards.begin(), meta.shards.end(),
                           [&](const storage::ShardMeta& s) { return s.ordinal == parents[i]; });
    // No append is in flight, so the committed end is the shard's last record for good.
    it->ending_position =
        sealed_ends.empty() ? current->Find(parents[i])->log->committed_end() : sealed_ends[i];
    it->closed_ms = now;
  }
  for (const NewShard& child : children) {
    storage::ShardMeta shard;
    shard.ordinal = meta.next_shard_ordinal++;
    shard.starting_hash_key = child.start;
    shard.ending_hash_key = child.end;
    shard.parent_ordinal = child.parent;
    shard.adjacent_parent_ordinal = child.adjacent_parent;
    shard.created_ms = now;
    meta.shards.push_back(shard);
  }
  // Opens the children's logs before the catalog names them.
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<const ShardSet> next, BuildShardSet(meta, current.get()));
  const std::string name = meta.name;
  RIFFLE_RETURN_IF_ERROR(CommitMeta(stream, std::move(meta), std::move(next)));
  spdlog::info("stream {} resharded: {} shard(s) closed, {} opened", name, parents.size(),
               children.size());
  return Status();
}

Status BrokerImpl::SplitShard(const RequestContext& ctx, const SplitShardRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.shard_to_split.has_value(), "shardToSplit");
  v.Name(req.shard_to_split, "shardToSplit");
  v.Required(req.new_starting_hash_key.has_value(), "newStartingHashKey");
  v.Pattern(req.new_starting_hash_key, "newStartingHashKey", "0|([1-9]\\d{0,38})",
            !req.new_starting_hash_key || (IsDecimalInteger(*req.new_starting_hash_key) &&
                                           req.new_starting_hash_key->size() <= 39));
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(uint32_t parent_ordinal,
                          ResolveShardId(ctx, req.stream, *req.shard_to_split));
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  MutexLock control(&stream->control_mu);
  const storage::StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireProvisioned(meta, "SplitShard"));
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Shard> parent,
                          OpenShard(ctx, meta, *stream->shards(), parent_ordinal));
  const HashKey lo = parent->meta.starting_hash_key;
  const HashKey hi = parent->meta.ending_hash_key;
  std::optional<HashKey> key = storage::ParseHashKey(*req.new_starting_hash_key);
  // Each child keeps at least two hash keys: lo + 1 < key < hi.
  if (!key || *key <= lo + 1 || *key >= hi) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("NewStartingHashKey {} used in SplitShard() on shard {} in stream {} "
                              "under account {} is not both greater than one plus the shard's "
                              "StartingHashKey {} and less than the shard's EndingHashKey {}.",
                              *req.new_starting_hash_key, parent->shard_id, meta.name, ctx.account,
                              storage::FormatHashKey(lo), storage::FormatHashKey(hi)));
  }
  RIFFLE_ASSIGN_OR_RETURN(DescribeLimitsResult limits, DescribeLimits(ctx));
  if (limits.open_shard_count + 1 > options_.shard_limit) {
    return Status(ErrorCode::kLimitExceeded,
                  fmt::format("This request would exceed the shard limit for the account {} in "
                              "{}. Current limit of shards is {}.",
                              ctx.account, ctx.region, options_.shard_limit));
  }
  const uint32_t ordinal = parent->meta.ordinal;
  return Reshard(
      *stream, {ordinal},
      {NewShard{lo, *key - 1, ordinal, std::nullopt}, NewShard{*key, hi, ordinal, std::nullopt}});
}

Status BrokerImpl::MergeShards(const RequestContext& ctx, const MergeShardsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.shard_to_merge.has_value(), "shardToMerge");
  v.Name(req.shard_to_merge, "shardToMerge");
  v.Required(req.adjacent_shard_to_merge.has_value(), "adjacentShardToMerge");
  v.Name(req.adjacent_shard_to_merge, "adjacentShardToMerge");
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(uint32_t first_ordinal,
                          ResolveShardId(ctx, req.stream, *req.shard_to_merge));
  RIFFLE_ASSIGN_OR_RETURN(uint32_t second_ordinal,
                          ResolveShardId(ctx, req.stream, *req.adjacent_shard_to_merge));
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  MutexLock control(&stream->control_mu);
  const storage::StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireProvisioned(meta, "MergeShards"));
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  const std::shared_ptr<const ShardSet> set = stream->shards();
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Shard> first, OpenShard(ctx, meta, *set, first_ordinal));
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Shard> second,
                          OpenShard(ctx, meta, *set, second_ordinal));
  // Kinesis takes the pair in hash order only: ShardToMerge must end where the other starts.
  if (first->meta.ending_hash_key == storage::kMaxHashKey ||
      first->meta.ending_hash_key + 1 != second->meta.starting_hash_key) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Shards {} and {} in stream {} under account {} are not an adjacent "
                              "pair of shards eligible for merging",
                              first->shard_id, second->shard_id, meta.name, ctx.account));
  }
  return Reshard(*stream, {first->meta.ordinal, second->meta.ordinal},
                 {NewShard{first->meta.starting_hash_key, second->meta.ending_hash_key,
                           first->meta.ordinal, second->meta.ordinal}});
}

StatusOr<UpdateShardCountResult> BrokerImpl::UpdateShardCount(const RequestContext& ctx,
                                                              const UpdateShardCountRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.target_shard_count.has_value(), "targetShardCount");
  v.Range(req.target_shard_count, "targetShardCount", 1, 100000);
  v.Required(req.scaling_type.has_value(), "scalingType");
  v.Enum(req.scaling_type, "scalingType", {"UNIFORM_SCALING"});
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  MutexLock control(&stream->control_mu);
  const storage::StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireProvisioned(meta, "UpdateShardCount"));
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  const std::shared_ptr<const ShardSet> set = stream->shards();
  const auto current = static_cast<uint32_t>(set->open.size());
  const auto target = static_cast<uint32_t>(*req.target_shard_count);
  UpdateShardCountResult out{meta.name, Arn(ctx, meta.name), static_cast<int32_t>(current),
                             static_cast<int32_t>(target)};
  if (target > 2 * current || 2 * target < current) {
    return Status(ErrorCode::kLimitExceeded,
                  fmt::format("UpdateShardCount failed for stream {} under account {}: the target "
                              "shard count {} must be between half and double the current open "
                              "shard count {}.",
                              meta.name, ctx.account, target, current));
  }
  // AWS allows ten scalings of a stream in any 24 hours.
  const int64_t now = clock_.NowMillis();
  std::erase_if(stream->scalings, [&](int64_t at) { return now - at >= kScalingWindowMs; });
  if (options_.shard_quotas && stream->scalings.size() >= kMaxScalingsPerWindow) {
    return Status(ErrorCode::kLimitExceeded,
                  fmt::format("UpdateShardCount failed for stream {} under account {}: the stream "
                              "was already scaled {} times in the last 24 hours.",
                              meta.name, ctx.account, kMaxScalingsPerWindow));
  }
  RIFFLE_ASSIGN_OR_RETURN(DescribeLimitsResult limits, DescribeLimits(ctx));
  if (static_cast<int64_t>(limits.open_shard_count) - current + target > options_.shard_limit) {
    return Status(ErrorCode::kLimitExceeded,
                  fmt::format("This request would exceed the shard limit for the account {} in "
                              "{}. Current limit of shards is {}.",
                              ctx.account, ctx.region, options_.shard_limit));
  }
  std::vector<std::pair<std::pair<HashKey, HashKey>, uint32_t>> open;
  for (const auto& shard : set->open) {
    open.push_back(
        {{shard->meta.starting_hash_key, shard->meta.ending_hash_key}, shard->meta.ordinal});
  }
  const auto uniform = storage::EvenHashKeyRanges(target);
  if (target == current &&
      std::equal(open.begin(), open.end(), uniform.begin(),
                 [](const auto& shard, const auto& range) { return shard.first == range; })) {
    return out;  // the open shards already are the uniform layout of that count
  }
  // Apply one uniform layer; a child needing three parents (scaling down by less than half)
  // goes through a short-lived layer of twice the target first, from which the target is an
  // exact pairing.
  auto apply = [&](uint32_t count) ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream->control_mu) -> Status {
    std::vector<std::pair<std::pair<HashKey, HashKey>, uint32_t>> now_open;
    for (const auto& shard : stream->shards()->open) {
      now_open.push_back(
          {{shard->meta.starting_hash_key, shard->meta.ending_hash_key}, shard->meta.ordinal});
    }
    auto layout = UniformLayout(now_open, count);
    std::vector<NewShard> children;
    for (const auto& [range, parents] : *layout) {
      children.push_back(
          NewShard{range.first, range.second, parents.front(),
                   parents.size() == 2 ? std::optional<uint32_t>(parents[1]) : std::nullopt});
    }
    std::vector<uint32_t> closing;
    for (const auto& [range, ordinal] : now_open) {
      closing.push_back(ordinal);
    }
    return Reshard(*stream, closing, children);
  };
  if (UniformLayout(open, target)) {
    RIFFLE_RETURN_IF_ERROR(apply(target));
    stream->scalings.push_back(now);
    return out;
  }
  if (!UniformLayout(open, 2 * target)) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("UpdateShardCount cannot reach {} uniform shards from the current "
                              "shards of stream {} under account {} with children of at most two "
                              "parents; use SplitShard and MergeShards.",
                              target, meta.name, ctx.account));
  }
  RIFFLE_RETURN_IF_ERROR(apply(2 * target));
  RIFFLE_RETURN_IF_ERROR(apply(target));
  stream->scalings.push_back(now);
  return out;
}

}  // namespace riffle::broker
