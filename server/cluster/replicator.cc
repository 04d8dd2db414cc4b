#include "server/cluster/replicator.h"

#include <pthread.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/cluster/cluster_node.h"
#include "storage/format.h"

namespace riffle::cluster {
namespace {

using namespace std::chrono_literals;

constexpr auto kRoundEvery = 50ms;  // the longest the replicator sleeps without a poke
constexpr auto kHeartbeat = 500ms;  // an idle shard's followers hear from its leader this often
// How soon followers hear of a higher watermark when no entries go their way meanwhile: their
// subscribers see records only up to it.
constexpr auto kWatermarkUpdate = 20ms;
constexpr auto kAppendDeadline = 2s;  // one Append, including the follower's fsync
constexpr auto kRetryAfter = 200ms;   // after a failed Append
constexpr auto kInSyncWindow = 2s;    // a follower that answered within this is in sync
constexpr auto kTakeoverGrace = 3s;   // a new leader takes writes before any follower answered
constexpr int64_t kCommitTimeoutMs = 5000;
constexpr uint32_t kMaxEntriesPerAppend = 2000;
constexpr uint64_t kMaxBytesPerAppend = 4 << 20;
constexpr uint64_t kMaxBytesPerBatch = 8 << 20;
// Calls in flight to one follower node: the next batch leaves while the previous one syncs.
constexpr int kMaxBatchesInFlight = 2;
constexpr auto kReconcileEvery = 500ms;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ShardName(uint64_t stream_id, uint32_t ordinal) {
  return fmt::format("stream {} {}", stream_id, storage::FormatShardId(ordinal));
}

}  // namespace

struct Replicator::FollowerProgress {
  std::string node_id;
  uint64_t next_from = 0;       // where the next Append starts
  uint64_t acked_end = 0;       // the follower's durable end, as it last said
  uint64_t watermark_sent = 0;  // the high watermark the last Append carried
  Clock::time_point last_sent{};
  Clock::time_point last_ok{};
  Clock::time_point retry_at{};
  bool voter = true;  // false: a learner, filled but not counted
  // A learner that has held every committed entry (acked end >= high watermark) since its last
  // gap: ready to vote.
  bool caught_up = false;
};

struct Replicator::Leadership {
  uint64_t epoch = 0;
  uint64_t epoch_start = 0;  // the HW must pass this: the first offset of this epoch
  EpochHistory history;
  std::shared_ptr<storage::ShardLog> log;
  std::vector<FollowerProgress> followers;  // the other voters, then the learners
  size_t replica_count = 0;                 // voters, this one included
  Clock::time_point since{};
  int64_t assignment_revision = 0;     // guards what this leadership writes to etcd
  std::vector<std::string> published;  // the in-sync set as last written to etcd
};

struct Replicator::Completion {
  std::string node_id;
  std::vector<std::pair<ShardKey, uint64_t>> sent;  // (shard, epoch) of each append, in order
  grpc::Status status;
  v1::AppendBatchResponse response;
};

Replicator::Replicator(ClusterNode& node, storage::Store& store, Follower& follower)
    : node_(node),
      store_(store),
      follower_(follower),
      stubs_(node.view(), node.peer_security()),
      thread_([this] { Run(); }) {}

Replicator::~Replicator() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Replicator::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
    reconcile_ = true;
  }
  wake_.notify_all();
}

Status Replicator::Writable(uint64_t stream_id, uint32_t ordinal, uint64_t epoch) const {
  std::lock_guard lock(mu_);
  auto it = writable_.find({stream_id, ordinal});
  auto at = writable_epoch_.find({stream_id, ordinal});
  if (it == writable_.end() || at == writable_epoch_.end() || at->second != epoch) {
    return Status(ErrorCode::kServiceUnavailable,
                  fmt::format("node {} is taking over {} as its leader; retry in a moment",
                              node_.node_id(), storage::FormatShardId(ordinal)));
  }
  return it->second;
}

bool Replicator::Leads(uint64_t stream_id, uint32_t ordinal, uint64_t epoch) const {
  std::lock_guard lock(mu_);
  auto it = writable_epoch_.find({stream_id, ordinal});
  return it != writable_epoch_.end() && it->second == epoch;
}

std::optional<ShardReplication> Replicator::Describe(uint64_t stream_id, uint32_t ordinal) const {
  std::lock_guard lock(mu_);
  auto it = described_.find({stream_id, ordinal});
  return it == described_.end() ? std::nullopt : std::optional<ShardReplication>(it->second);
}

void Replicator::Run() {
  pthread_setname_np(pthread_self(), "riffle-replicate");
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kRoundEvery, [this] { return poked_ || stopping_; });
      poked_ = false;
      if (stopping_) {
        break;
      }
    }
    Round();
  }
  // Writes still waiting cannot be answered by this node any more.
  while (!leading_.empty()) {
    StopLeading(leading_.begin()->first, "node " + node_.node_id() + " is shutting down");
  }
  // gRPC completions refer to this object: wait for them (each has a deadline).
  std::unique_lock lock(mu_);
  wake_.wait(lock, [this] { return in_flight_ == 0; });
}

void Replicator::Round() {
  bool reconcile = false;
  std::vector<Completion> completions;
  {
    std::lock_guard lock(mu_);
    completions.swap(completions_);
    reconcile = reconcile_;
    reconcile_ = false;
  }
  const Clock::time_point now = Clock::now();
  if (reconcile || now - last_reconcile_ >= kReconcileEvery) {
    last_reconcile_ = now;
    Reconcile();
  }
  for (const Completion& completion : completions) {
    Handle(completion);
  }
  // One batch per follower node, for every shard of this node's it follows.
  std::set<std::string> followers;
  for (const auto& [shard, leadership] : leading_) {
    for (const FollowerProgress& follower : leadership->followers) {
      followers.insert(follower.node_id);
    }
  }
  for (const std::string& node_id : followers) {
    Link& link = links_[node_id];
    if (link.in_flight < kMaxBatchesInFlight && now >= link.retry_at) {
      SendBatch(node_id, link);
    }
  }
  const int64_t now_ms = WallMs();
  for (auto& [shard, leadership] : leading_) {
    Advance(shard, *leadership);
    leadership->log->FailAwaiting(
        Status(ErrorCode::kInternalFailure,
               fmt::format("{} did not reach a majority of its replicas within {} ms; the "
                           "record may or may not be stored",
                           ShardName(shard.first, shard.second), kCommitTimeoutMs)),
        now_ms - kCommitTimeoutMs);
  }
}

void Replicator::Reconcile() {
  const bool serving = node_.membership().Serving();
  const std::map<ShardKey, Assignment> all = node_.view().Assignments();
  std::map<ShardKey, Assignment> mine;
  for (const auto& [shard, assignment] : all) {
    if (assignment.replicated() && assignment.node_id == node_.node_id() && serving) {
      mine.emplace(shard, assignment);
    }
  }
  for (auto it = leading_.begin(); it != leading_.end();) {
    auto found = mine.find(it->first);
    if (found == mine.end() || found->second.epoch != it->second->epoch) {
      const ShardKey shard = (it++)->first;
      auto now = all.find(shard);
      if (leading_.at(shard)->replica_count == 1 && now != all.end() &&
          now->second.node_id == node_.node_id() && !now->second.replicated()) {
        // This node's copy is the shard's only one again (its learner left, or it is moving
        // away): what it holds durably is committed, now and from here on. Before the stop,
        // so the writes waiting for that are answered, not failed.
        leading_.at(shard)->log->SetReplicated(false, 0);
      }
      StopLeading(shard, serving ? "its leadership moved on" : "this node's lease has lapsed");
    } else {
      // The same leadership, with a changed assignment (a reshard's closing mark, a learner
      // added or promoted), which now guards what this leader writes to etcd; the in-sync set
      // is reported again under it.
      if (it->second->assignment_revision != found->second.mod_revision) {
        it->second->assignment_revision = found->second.mod_revision;
        it->second->published.clear();
      }
      SetFollowers(*it->second, found->second, it->second->log->durable_end());
      ++it;
    }
  }
  for (const auto& [shard, assignment] : mine) {
    if (leading_.count(shard) == 0) {
      Lead(shard, assignment);
    }
  }
}

void Replicator::Lead(const ShardKey& shard, const Assignment& assignment) {
  StatusOr<std::shared_ptr<storage::ShardLog>> log = store_.OpenShard(shard.first, shard.second);
  StatusOr<ReplicaState> state = follower_.Load(shard.first, shard.second);
  if (!log.ok() || !state.ok()) {
    spdlog::error("cluster: cannot lead {}: {}", ShardName(shard.first, shard.second),
                  (!log.ok() ? log.status() : state.status()).ToString());
    return;
  }
  if (state->fenced_epoch > assignment.epoch) {
    return;  // a newer election has fenced this replica; its assignment is on its way
  }
  auto leadership = std::make_unique<Leadership>();
  leadership->epoch = assignment.epoch;
  leadership->log = *log;
  leadership->assignment_revision = assignment.mod_revision;
  leadership->since = Clock::now();
  const uint64_t end = (*log)->durable_end();
  ReplicaState next = *state;
  next.fenced_epoch = assignment.epoch;
  if ((*log)->replicated()) {
    // This node has followed or led the shard since it started: what its log shows as
    // committed is, and may be ahead of what was last saved.
    next.committed = std::max(next.committed, (*log)->committed_end());
  }
  if (next.history.empty()) {
    // No replica ever wrote this copy: it is a new shard's, or the one copy an unreplicated
    // shard had until now (ReplicaPlanner gives it learners), written by this node alone, so
    // everything it holds was committed on it. Its entries count as this epoch's, so a
    // learner holding an older copy (no history) drops it and takes this one.
    next.history.push_back({assignment.epoch, 0});
    next.committed = end;
  }
  if (next.history.empty() || next.history.back().epoch < assignment.epoch) {
    next.history.push_back({assignment.epoch, end});
  }
  if (Status saved = follower_.Save(shard.first, shard.second, next); !saved.ok()) {
    spdlog::error("cluster: cannot lead {}: {}", ShardName(shard.first, shard.second),
                  saved.ToString());
    return;
  }
  leadership->history = next.history;
  leadership->epoch_start = next.history.back().start_offset;
  SetFollowers(*leadership, assignment, end);
  (*log)->SetReplicated(true, next.committed);
  (*log)->SetDurableListener([this] {
    {
      std::lock_guard lock(mu_);
      poked_ = true;
    }
    wake_.notify_all();
  });
  if (end > next.committed) {
    (*log)->SkipOffset(WallMs());  // the epoch marker: the inherited tail commits with it
  }
  spdlog::info("cluster: node {} leads {} in epoch {} from offset {} (committed {})",
               node_.node_id(), ShardName(shard.first, shard.second), assignment.epoch, end,
               next.committed);
  leading_[shard] = std::move(leadership);
  std::lock_guard lock(mu_);
  writable_[shard] = Status();
  writable_epoch_[shard] = assignment.epoch;
}

void Replicator::SetFollowers(Leadership& leadership, const Assignment& assignment, uint64_t from) {
  std::vector<FollowerProgress> next;
  const auto add = [&](const std::string& node_id, bool voter) {
    if (node_id == node_.node_id()) {
      return;
    }
    auto known = std::find_if(leadership.followers.begin(), leadership.followers.end(),
                              [&](const FollowerProgress& f) { return f.node_id == node_id; });
    FollowerProgress& follower = next.emplace_back();
    if (known != leadership.followers.end()) {
      follower = *known;
    } else {
      follower.node_id = node_id;
      follower.next_from = from;  // a follower that lacks entries says so, and is sent them
    }
    follower.voter = voter;
  };
  for (const std::string& node_id : assignment.replicas) {
    add(node_id, true);
  }
  for (const std::string& node_id : assignment.learners) {
    add(node_id, false);
  }
  leadership.followers = std::move(next);
  leadership.replica_count = std::max<size_t>(assignment.replicas.size(), 1);
}

void Replicator::StopLeading(const ShardKey& shard, const std::string& why) {
  auto it = leading_.find(shard);
  if (it == leading_.end()) {
    return;
  }
  it->second->log->SetDurableListener(nullptr);
  it->second->log->FailAwaiting(
      Status(ErrorCode::kInternalFailure,
             fmt::format("node {} stopped leading {} ({}); the record may or may not be stored",
                         node_.node_id(), ShardName(shard.first, shard.second), why)));
  spdlog::info("cluster: node {} stops leading {} in epoch {}: {}", node_.node_id(),
               ShardName(shard.first, shard.second), it->second->epoch, why);
  leading_.erase(it);
  std::lock_guard lock(mu_);
  writable_.erase(shard);
  writable_epoch_.erase(shard);
  described_.erase(shard);
}

void Replicator::SendBatch(const std::string& node_id, Link& link) {
  const Clock::time_point now = Clock::now();
  v1::Replication::Stub* stub = stubs_.For(node_id);
  if (stub == nullptr) {
    link.retry_at = now + kRetryAfter;  // not a live member: try again when it is
    return;
  }
  struct Call {
    grpc::ClientContext context;
    v1::AppendBatch request;
    v1::AppendBatchResponse response;
  };
  auto call = std::make_shared<Call>();
  std::vector<std::pair<ShardKey, uint64_t>> sent;
  uint64_t bytes = 0;
  // Voters' Appends first: a learner's fill must not hold up the writes waiting for them.
  for (const bool voters : {true, false}) {
    for (auto& [shard, leadership] : leading_) {
      if (bytes >= kMaxBytesPerBatch) {
        break;  // the rest go in the next batch, right after this one's answer
      }
      auto follower = std::find_if(leadership->followers.begin(), leadership->followers.end(),
                                   [&](const FollowerProgress& f) { return f.node_id == node_id; });
      if (follower == leadership->followers.end() || follower->voter != voters ||
          now < follower->retry_at) {
        continue;
      }
      const bool entries = follower->next_from < leadership->log->durable_end();
      const bool watermark = leadership->log->committed_end() > follower->watermark_sent &&
                             now - follower->last_sent >= kWatermarkUpdate;
      if (!entries && !watermark && now - follower->last_sent < kHeartbeat) {
        continue;
      }
      StatusOr<uint64_t> added = AddAppend(shard, *leadership, *follower, call->request);
      if (!added.ok()) {
        spdlog::error("cluster: cannot read {} to replicate it: {}",
                      ShardName(shard.first, shard.second), added.status().ToString());
        follower->retry_at = now + kRetryAfter;
        continue;
      }
      follower->last_sent = now;
      follower->watermark_sent =
          call->request.appends(call->request.appends_size() - 1).high_watermark();
      // The next batch continues where this one ends; an answer that says otherwise rewinds it.
      follower->next_from = call->request.appends(call->request.appends_size() - 1).end();
      sent.emplace_back(shard, leadership->epoch);
      bytes += *added;
    }
  }
  if (sent.empty()) {
    return;
  }
  call->context.set_deadline(std::chrono::system_clock::now() + kAppendDeadline);
  ++link.in_flight;
  {
    std::lock_guard lock(mu_);
    ++in_flight_;
  }
  stub->async()->Append(
      &call->context, &call->request, &call->response,
      [this, call, node_id, sent = std::move(sent)](grpc::Status status) mutable {
        {
          std::lock_guard lock(mu_);
          completions_.push_back(
              Completion{node_id, std::move(sent), std::move(status), std::move(call->response)});
          --in_flight_;
          poked_ = true;
        }
        wake_.notify_all();
      });
}

StatusOr<uint64_t> Replicator::AddAppend(const ShardKey& shard, const Leadership& leadership,
                                         const FollowerProgress& follower, v1::AppendBatch& batch) {
  RIFFLE_ASSIGN_OR_RETURN(
      storage::ReadResult read,
      leadership.log->ReadDurable(follower.next_from, kMaxEntriesPerAppend, kMaxBytesPerAppend));
  v1::AppendRequest& request = *batch.add_appends();
  request.mutable_shard()->set_stream_id(shard.first);
  request.mutable_shard()->set_ordinal(shard.second);
  request.set_epoch(leadership.epoch);
  request.set_leader_node_id(node_.node_id());
  request.set_prev_end(follower.next_from);
  request.set_learner(!follower.voter);
  for (const EpochStart& start : leadership.history) {
    v1::EpochStart* out = request.add_history();
    out->set_epoch(start.epoch);
    out->set_start_offset(start.start_offset);
  }
  uint64_t bytes = 0;
  for (storage::ReadRecord& record : read.records) {
    v1::Entry* entry = request.add_entries();
    entry->set_offset(record.offset);
    entry->set_value(storage::EncodeRecord(record.record.arrival_ms, record.record.partition_key,
                                           record.record.data));
    bytes += entry->value().size();
  }
  request.set_end(std::max(read.next_offset, follower.next_from));
  request.set_high_watermark(leadership.log->committed_end());
  return bytes;
}

void Replicator::Handle(const Completion& completion) {
  Link& link = links_[completion.node_id];
  --link.in_flight;
  const bool answered = completion.status.ok() && completion.response.results_size() ==
                                                      static_cast<int>(completion.sent.size());
  if (!answered) {
    link.retry_at = Clock::now() + kRetryAfter;
    for (const auto& [shard, epoch] : completion.sent) {
      if (FollowerProgress* follower = FindFollower(shard, epoch, completion.node_id)) {
        follower->next_from = follower->acked_end;  // resent from what it holds
      }
    }
    return;
  }
  for (size_t i = 0; i < completion.sent.size(); ++i) {
    const auto& [shard, epoch] = completion.sent[i];
    HandleOne(shard, epoch, completion.node_id, completion.response.results(static_cast<int>(i)));
  }
}

Replicator::FollowerProgress* Replicator::FindFollower(const ShardKey& shard, uint64_t epoch,
                                                       const std::string& node_id) {
  auto it = leading_.find(shard);
  if (it == leading_.end() || it->second->epoch != epoch) {
    return nullptr;
  }
  for (FollowerProgress& follower : it->second->followers) {
    if (follower.node_id == node_id) {
      return &follower;
    }
  }
  return nullptr;
}

void Replicator::HandleOne(const ShardKey& shard, uint64_t epoch, const std::string& node_id,
                           const v1::AppendResponse& response) {
  FollowerProgress* follower = FindFollower(shard, epoch, node_id);
  if (follower == nullptr) {
    return;  // an answer for a leadership that is over
  }
  const Leadership& leadership = *leading_.at(shard);
  const Clock::time_point now = Clock::now();
  if (response.result() != v1::AppendResponse::OK) {
    follower->next_from = follower->acked_end;  // batches sent after this one are void too
  }
  switch (response.result()) {
    case v1::AppendResponse::OK:
      // Answers of batches in flight together may come in any order.
      follower->acked_end = std::max(follower->acked_end, response.end());
      follower->next_from = std::max(follower->next_from, response.end());
      follower->last_ok = now;
      break;
    case v1::AppendResponse::GAP:
      follower->next_from = response.end();
      follower->last_ok = now;
      if (!follower->voter) {
        // What a learner holds, exactly (a wiped one holds less than it said before); it is
        // not ready to vote until it has every committed entry again.
        follower->acked_end = response.end();
        follower->caught_up = false;
      }
      break;
    case v1::AppendResponse::FENCED:
      StopLeading(shard,
                  fmt::format("replica {} has promised epoch {}", node_id, response.epoch()));
      break;
    case v1::AppendResponse::DIVERGED:
      spdlog::error(
          "cluster: replica {} refused {} from node {} in epoch {} (would cut "
          "committed entries)",
          node_id, ShardName(shard.first, shard.second), node_.node_id(), leadership.epoch);
      follower->retry_at = now + 5 * kRetryAfter;
      break;
    default:
      spdlog::warn("cluster: replica {} could not apply {}: {}", node_id,
                   ShardName(shard.first, shard.second), response.error());
      follower->retry_at = now + kRetryAfter;
      break;
  }
}

void Replicator::PublishInSync(const ShardKey& shard, Leadership& leadership,
                               const std::vector<std::string>& in_sync) {
  const std::string prefix = node_.membership().Key("");
  StatusOr<TxnResult> txn = node_.etcd().Txn(
      {Compare::ModRevision(prefix + AssignmentKey(shard.first, shard.second),
                            Compare::Result::kEqual, leadership.assignment_revision)},
      {Op::Put(prefix + InSyncKey(shard.first, shard.second),
               EncodeInSync(InSync{leadership.epoch, in_sync}))});
  if (txn.ok() && txn->succeeded) {
    leadership.published = in_sync;  // else: tried again next round
  }
}

void Replicator::Advance(const ShardKey& shard, Leadership& leadership) {
  const uint64_t durable = leadership.log->durable_end();
  std::vector<uint64_t> ends = {durable};
  const Clock::time_point now = Clock::now();
  size_t in_sync = 1;
  std::vector<std::string> in_sync_nodes = {node_.node_id()};
  ShardReplication described;
  described.epoch = leadership.epoch;
  described.durable_end = durable;
  for (FollowerProgress& follower : leadership.followers) {
    const bool fresh =
        follower.last_ok != Clock::time_point{} && now - follower.last_ok < kInSyncWindow;
    if (follower.voter) {
      ends.push_back(follower.acked_end);
      in_sync += fresh ? 1 : 0;
      if (fresh) {
        in_sync_nodes.push_back(follower.node_id);
      }
    } else {
      // A learner is reported once it holds every committed entry: made a voter then, it
      // leaves every entry committed so far on a majority of the new voters. It stays
      // reported (the controller may be slow to look) until a gap shows it lost entries.
      // The watermark counts only once it is this leadership's own (past the first offset of
      // its epoch, or nothing inherited to commit): before, it may lag what is committed.
      const bool watermark_known = leadership.log->committed_end() > leadership.epoch_start ||
                                   leadership.log->durable_end() == leadership.epoch_start;
      follower.caught_up =
          follower.caught_up ||
          (watermark_known && follower.last_ok != Clock::time_point{} &&
           follower.acked_end >= leadership.log->committed_end());
      if (fresh && follower.caught_up) {
        in_sync_nodes.push_back(follower.node_id);
      }
    }
    described.followers.push_back(
        {follower.node_id, follower.acked_end, fresh && follower.voter, !follower.voter});
  }
  described.voters = leadership.replica_count;
  const size_t quorum = leadership.replica_count / 2 + 1;
  std::sort(ends.begin(), ends.end(), std::greater<>());
  if (ends.size() >= quorum && ends[quorum - 1] > leadership.epoch_start) {
    leadership.log->AdvanceHighWatermark(ends[quorum - 1]);
  }
  described.high_watermark = leadership.log->committed_end();
  if (in_sync_nodes != leadership.published) {
    PublishInSync(shard, leadership, in_sync_nodes);
  }
  Status writable;
  if (in_sync < quorum && now - leadership.since >= kTakeoverGrace) {
    writable = Status(ErrorCode::kServiceUnavailable,
                      fmt::format("{} has {} of {} replicas in sync; writes need {}",
                                  storage::FormatShardId(shard.second), in_sync,
                                  leadership.replica_count, quorum));
  }
  std::lock_guard lock(mu_);
  writable_[shard] = std::move(writable);
  described_[shard] = std::move(described);
}

}  // namespace riffle::cluster
