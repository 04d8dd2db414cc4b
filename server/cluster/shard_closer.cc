#include "server/cluster/shard_closer.h"

#include <map>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "storage/format.h"

namespace riffle::cluster {
namespace {

constexpr auto kLookAgain = std::chrono::milliseconds(10);

std::string ShardName(const std::pair<uint64_t, uint32_t>& shard) {
  return fmt::format("{}/{}", shard.first, storage::FormatShardId(shard.second));
}

}  // namespace

ShardCloser::ShardCloser(ClusterNode& node) : node_(node) {
  node_.SetPublishGuard(
      [this](const storage::CatalogChange& change) { return StillSealed(change); });
}

std::vector<Compare> ShardCloser::StillSealed(const storage::CatalogChange& change) {
  std::vector<Compare> guards;
  std::lock_guard lock(sealed_mu_);
  if (sealed_revisions_.empty()) {
    return guards;
  }
  const std::string prefix = node_.membership().Key("");
  for (const auto& [key, value] : change.puts) {
    if (!key.starts_with(storage::kCatalogStreamPrefix)) {
      continue;
    }
    std::optional<storage::StreamMeta> meta = storage::DecodeStreamMeta(value);
    if (!meta) {
      continue;
    }
    for (auto it = sealed_revisions_.lower_bound({meta->id, 0});
         it != sealed_revisions_.end() && it->first.first == meta->id; ++it) {
      guards.push_back(Compare::ModRevision(prefix + AssignmentKey(meta->id, it->first.second),
                                            Compare::Result::kEqual, it->second));
    }
  }
  return guards;
}

bool ShardCloser::MarkClosing(const ShardKey& shard, const Assignment& assignment) {
  if (assignment.closing) {
    return true;
  }
  if (assignment.node_id.empty() || !assignment.moving_to.empty()) {
    return false;  // electing a leader or moving: mark it once that is over
  }
  Assignment closing = assignment;
  closing.closing = true;
  return node_.ReplaceAssignment(shard.first, shard.second, assignment, closing);
}

StatusOr<std::vector<uint64_t>> ShardCloser::Seal(uint64_t stream_id,
                                                  const std::vector<uint32_t>& ordinals) {
  {
    std::lock_guard lock(mu_);
    for (uint32_t ordinal : ordinals) {
      claimed_.insert({stream_id, ordinal});
    }
  }
  // Whatever ReopenAbandoned changed before the claim is in this node's view from here on.
  if (Status caught_up = node_.CatchUp(); !caught_up.ok()) {
    Release(stream_id, ordinals);
    return caught_up;
  }
  std::vector<std::optional<uint64_t>> ends(ordinals.size());
  const auto deadline = std::chrono::steady_clock::now() + kSealTimeout;
  for (;;) {
    std::optional<size_t> unsealed;  // the first shard without a seal of its current epoch
    for (size_t i = 0; i < ordinals.size(); ++i) {
      const ShardKey shard{stream_id, ordinals[i]};
      std::optional<Assignment> assignment = node_.view().AssignmentOf(shard.first, shard.second);
      if (!assignment) {
        Release(stream_id, ordinals);
        return Status(ErrorCode::kServiceUnavailable,
                      fmt::format("{} has no owner in the cluster yet; try again",
                                  storage::FormatShardId(shard.second)));
      }
      // A seal counts only in the epoch of the mark: an older one belongs to a reopened shard.
      std::optional<cluster::Seal> seal = node_.view().SealOf(shard.first, shard.second);
      if (assignment->closing && seal && seal->epoch == assignment->epoch) {
        ends[i] = seal->end;
        std::lock_guard lock(sealed_mu_);
        sealed_revisions_[shard] = assignment->mod_revision;
        continue;
      }
      unsealed = unsealed.value_or(i);
      if (!assignment->closing) {
        MarkClosing(shard, *assignment);  // the view shows the mark (or the race) next round
      }
    }
    if (!unsealed) {
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      Release(stream_id, ordinals);
      std::optional<Assignment> assignment =
          node_.view().AssignmentOf(stream_id, ordinals[*unsealed]);
      return Status(
          ErrorCode::kServiceUnavailable,
          fmt::format("{} could not be closed: its leader ({}) did not stop its writes within {} "
                      "s; try again",
                      storage::FormatShardId(ordinals[*unsealed]),
                      assignment && !assignment->node_id.empty() ? "node " + assignment->node_id
                                                                 : "none elected",
                      kSealTimeout.count()));
    }
    std::this_thread::sleep_for(kLookAgain);
  }
  std::vector<uint64_t> out;
  for (const std::optional<uint64_t>& end : ends) {
    out.push_back(*end);
  }
  return out;
}

void ShardCloser::Release(uint64_t stream_id, const std::vector<uint32_t>& ordinals) {
  {
    std::lock_guard lock(sealed_mu_);
    for (uint32_t ordinal : ordinals) {
      sealed_revisions_.erase({stream_id, ordinal});
    }
  }
  std::lock_guard lock(mu_);
  for (uint32_t ordinal : ordinals) {
    claimed_.erase({stream_id, ordinal});
  }
}

void ShardCloser::ReopenAbandoned() {
  std::lock_guard lock(mu_);
  std::map<ShardKey, Assignment> abandoned;
  for (const auto& [shard, assignment] : node_.view().Assignments()) {
    if (assignment.closing && claimed_.count(shard) == 0) {
      abandoned.emplace(shard, assignment);
    }
  }
  if (abandoned.empty()) {
    return;
  }
  // The catalog as the last controller left it: a reshard that published has closed its shards.
  if (!node_.CatchUp().ok()) {
    return;  // etcd unreachable: settled on a later round
  }
  StatusOr<std::map<uint64_t, storage::StreamMeta>> by_id = node_.StreamsById();
  if (!by_id.ok()) {
    return;
  }
  const std::string prefix = node_.membership().Key("");
  for (const auto& [shard, assignment] : node_.view().Assignments()) {
    if (abandoned.count(shard) == 0 ||
        abandoned.at(shard).mod_revision != assignment.mod_revision) {
      continue;  // changed since: looked at next round
    }
    auto stream = by_id->find(shard.first);
    if (stream == by_id->end()) {
      continue;  // being deleted with its assignments
    }
    const storage::ShardMeta* meta = nullptr;
    for (const storage::ShardMeta& candidate : stream->second.shards) {
      meta = candidate.ordinal == shard.second ? &candidate : meta;
    }
    Assignment settled = assignment;
    settled.closing = false;
    std::vector<Op> ops;
    const bool reopen = meta != nullptr && !meta->ending_position;
    if (reopen) {
      // A new epoch lifts the leader's seal of the old one; the old Seal is void with it.
      ++settled.epoch;
      ops.push_back(Op::Delete(prefix + SealKey(shard.first, shard.second)));
    }
    if (node_.ReplaceAssignment(shard.first, shard.second, assignment, settled, std::move(ops))) {
      spdlog::info(
          "cluster: {} {}", ShardName(shard),
          reopen ? fmt::format("reopened in epoch {}: its reshard did not happen", settled.epoch)
                 : std::string("closed by its reshard"));
    }
  }
}

}  // namespace riffle::cluster
