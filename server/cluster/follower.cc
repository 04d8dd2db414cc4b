#include "server/cluster/follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "storage/store.h"

namespace riffle::cluster {
namespace {

EpochHistory FromProto(const google::protobuf::RepeatedPtrField<v1::EpochStart>& history) {
  EpochHistory out;
  for (const v1::EpochStart& start : history) {
    out.push_back({start.epoch(), start.start_offset()});
  }
  return out;
}

}  // namespace

StatusOr<ReplicaState*> Follower::StateLocked(const ShardKey& shard) {
  if (auto it = states_.find(shard); it != states_.end()) {
    return &it->second;
  }
  RIFFLE_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                          store_.GetCatalog(ReplicaStateKey(shard.first, shard.second)));
  ReplicaState state;
  if (stored) {
    std::optional<ReplicaState> decoded = DecodeReplicaState(*stored);
    if (!decoded) {
      return Status(ErrorCode::kInternalFailure, "corrupt replica state: " + *stored);
    }
    state = std::move(*decoded);
  }
  return &states_.emplace(shard, std::move(state)).first->second;
}

StatusOr<std::shared_ptr<storage::ShardLog>> Follower::LogLocked(const ShardKey& shard) {
  if (auto it = logs_.find(shard); it != logs_.end()) {
    return it->second;
  }
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<storage::ShardLog> log,
                          store_.OpenShard(shard.first, shard.second));
  RIFFLE_ASSIGN_OR_RETURN(ReplicaState * state, StateLocked(shard));
  if (!log->replicated()) {
    // Readers here (subscriptions) see what the leader said is committed, not the whole copy:
    // its tail may be one that a failover takes back.
    log->SetReplicated(true, state->committed);
  }
  logs_.emplace(shard, log);
  return log;
}

bool Follower::Serves(uint64_t stream_id, uint32_t ordinal) {
  std::lock_guard lock(mu_);
  return logs_.count({stream_id, ordinal}) != 0;
}

StatusOr<ReplicaState> Follower::Load(uint64_t stream_id, uint32_t ordinal) {
  std::lock_guard lock(mu_);
  RIFFLE_ASSIGN_OR_RETURN(ReplicaState * state, StateLocked({stream_id, ordinal}));
  return *state;
}

Status Follower::Save(uint64_t stream_id, uint32_t ordinal, const ReplicaState& state) {
  std::lock_guard lock(mu_);
  RIFFLE_ASSIGN_OR_RETURN(ReplicaState * current, StateLocked({stream_id, ordinal}));
  storage::CatalogChange change;
  change.puts.emplace_back(ReplicaStateKey(stream_id, ordinal), EncodeReplicaState(state));
  RIFFLE_RETURN_IF_ERROR(store_.ApplyCatalog(change));
  *current = state;
  return Status();
}

std::vector<StatusOr<v1::AppendResponse>> Follower::Append(
    const std::vector<const v1::AppendRequest*>& requests) {
  std::vector<StatusOr<v1::AppendResponse>> responses(
      requests.size(), Status(ErrorCode::kInternalFailure, "not applied"));
  std::lock_guard lock(mu_);
  // Rounds of requests for distinct shards: a round's plans all start from the state its
  // shards had before it, and the next round sees what the round wrote.
  std::vector<size_t> left(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    left[i] = i;
  }
  while (!left.empty()) {
    std::vector<size_t> later;
    std::set<ShardKey> in_round;
    std::vector<std::pair<size_t, Plan>> round;
    for (size_t i : left) {
      const v1::AppendRequest& request = *requests[i];
      const ShardKey shard{request.shard().stream_id(), request.shard().ordinal()};
      if (!in_round.insert(shard).second) {
        later.push_back(i);
        continue;
      }
      StatusOr<Plan> plan = PlanLocked(shard, request);
      if (!plan.ok()) {
        responses[i] = plan.status();
      } else if (!plan->write) {
        responses[i] = std::move(plan->response);
        *plan->state = std::move(plan->next);  // the high watermark only: kept in memory
        plan->log->AdvanceHighWatermark(plan->state->committed);
      } else {
        round.emplace_back(i, std::move(plan).value());
      }
    }
    std::vector<storage::Store::ShardCopy> copies;
    for (auto& [i, plan] : round) {
      copies.push_back({plan.shard.first, plan.shard.second, std::move(*plan.write)});
    }
    const Status written = copies.empty() ? Status() : store_.WriteCopiedRecords(copies);
    for (auto& [i, plan] : round) {
      if (!written.ok()) {
        responses[i] = written;
        continue;
      }
      *plan.state = std::move(plan.next);
      plan.log->AdvanceHighWatermark(plan.state->committed);
      plan.response.set_epoch(plan.state->fenced_epoch);
      plan.response.set_end(plan.log->durable_end());
      responses[i] = std::move(plan.response);
    }
    left = std::move(later);
  }
  return responses;
}

StatusOr<Follower::Plan> Follower::PlanLocked(const ShardKey& shard,
                                              const v1::AppendRequest& request) {
  Plan plan;
  plan.shard = shard;
  RIFFLE_ASSIGN_OR_RETURN(plan.state, StateLocked(shard));
  RIFFLE_ASSIGN_OR_RETURN(plan.log, LogLocked(shard));
  const ReplicaState& state = *plan.state;
  v1::AppendResponse& response = plan.response;
  plan.next = state;
  response.set_epoch(state.fenced_epoch);
  const uint64_t held = plan.log->durable_end();
  response.set_end(held);
  if (request.epoch() < state.fenced_epoch) {
    response.set_result(v1::AppendResponse::FENCED);
    return plan;
  }
  const EpochHistory leader_history = FromProto(request.history());
  // Below `keep` this replica and the leader hold the same entries.
  const uint64_t keep = FirstDivergence(state.history, leader_history, held);
  if (keep < held && keep < state.committed && !request.learner()) {
    spdlog::error(
        "cluster: leader {} (epoch {}) would cut shard {}/{} at {}, below its committed {}; "
        "refused",
        request.leader_node_id(), request.epoch(), shard.first, shard.second, keep,
        state.committed);
    response.set_result(v1::AppendResponse::DIVERGED);
    return plan;
  }
  if (request.prev_end() > keep) {
    response.set_result(v1::AppendResponse::GAP);
    response.set_end(keep);
    if (keep == held) {
      return plan;  // nothing to cut: the leader resends from our end
    }
  }
  storage::Store::CopiedRecords copied;
  if (keep < held) {
    copied.truncate_from = keep;
    spdlog::info("cluster: shard {}/{} drops its entries from {} to {}, which leader {} (epoch "
                 "{}) does not have",
                 shard.first, shard.second, keep, held, request.leader_node_id(),
                 request.epoch());
  }
  ReplicaState& next = plan.next;
  next.fenced_epoch = request.epoch();
  if (request.learner()) {
    next.committed = std::min(next.committed, keep);  // it may cut below it (see above)
  }
  uint64_t end = keep;
  if (request.prev_end() <= keep) {
    for (const v1::Entry& entry : request.entries()) {
      if (entry.offset() >= keep) {
        copied.records.emplace_back(entry.offset(), entry.value());
      }
    }
    end = std::max(keep, request.end());
  }
  next.history =
      HistoryBelow(request.prev_end() <= keep ? leader_history : state.history, end);
  // The committed position is a lower bound: a stale one on disk costs nothing but an epoch
  // marker more, so a heartbeat that changes only it writes nothing.
  next.committed = std::max(next.committed, std::min(request.high_watermark(), end));
  if (end == held && !copied.truncate_from && copied.records.empty() &&
      next.fenced_epoch == state.fenced_epoch && next.history == state.history) {
    return plan;
  }
  copied.end = end;
  copied.catalog_put.emplace(ReplicaStateKey(shard.first, shard.second),
                             EncodeReplicaState(next));
  plan.write = std::move(copied);
  return plan;
}

StatusOr<v1::FenceResponse> Follower::Fence(const v1::FenceRequest& request) {
  const ShardKey shard{request.shard().stream_id(), request.shard().ordinal()};
  std::lock_guard lock(mu_);
  RIFFLE_ASSIGN_OR_RETURN(ReplicaState * state, StateLocked(shard));
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<storage::ShardLog> log, LogLocked(shard));
  v1::FenceResponse response;
  if (request.epoch() > state->fenced_epoch) {
    ReplicaState next = *state;
    next.fenced_epoch = request.epoch();
    storage::CatalogChange change;
    change.puts.emplace_back(ReplicaStateKey(shard.first, shard.second), EncodeReplicaState(next));
    RIFFLE_RETURN_IF_ERROR(store_.ApplyCatalog(change));
    *state = std::move(next);
  }
  const uint64_t end = log->durable_end();
  response.set_fenced(request.epoch() >= state->fenced_epoch);
  response.set_fenced_epoch(state->fenced_epoch);
  response.set_end(end);
  response.set_last_epoch(end == 0 ? 0 : EpochAt(state->history, end - 1));
  response.set_committed(state->committed);
  return response;
}

}  // namespace riffle::cluster
