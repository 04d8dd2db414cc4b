#include "server/cluster/replicator.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/cluster/cluster_node.h"
#include "storage/format.h"

namespace riffle::cluster {
namespace {

using namespace std::chrono_literals;

constexpr auto kHeartbeat = 100ms;       // an idle follower hears from its leader this often
constexpr auto kAppendDeadline = 2s;     // one Append, including the follower's fsync
constexpr auto kRetryAfter = 200ms;      // after a failed Append
constexpr auto kInSyncWindow = 2s;       // a follower that answered within this is in sync
constexpr auto kTakeoverGrace = 3s;      // a new leader takes writes before any follower answered
constexpr int64_t kCommitTimeoutMs = 5000;
constexpr uint32_t kMaxEntriesPerAppend = 2000;
constexpr uint64_t kMaxBytesPerAppend = 4 << 20;
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
  uint64_t next_from = 0;  // where the next Append starts
  uint64_t acked_end = 0;  // the follower's durable end, as it last said
  bool in_flight = false;
  Clock::time_point last_sent{};
  Clock::time_point last_ok{};
  Clock::time_point retry_at{};
};

struct Replicator::Leadership {
  uint64_t epoch = 0;
  uint64_t epoch_start = 0;  // the HW must pass this: the first offset of this epoch
  EpochHistory history;
  std::shared_ptr<storage::ShardLog> log;
  std::vector<FollowerProgress> followers;
  size_t replica_count = 0;
  Clock::time_point since{};
  int64_t assignment_revision = 0;      // guards what this leadership writes to etcd
  std::vector<std::string> published;   // the in-sync set as last written to etcd
};

struct Replicator::Completion {
  ShardKey shard;
  uint64_t epoch = 0;
  std::string node_id;
  grpc::Status status;
  v1::AppendResponse response;
};

Replicator::Replicator(ClusterNode& node, storage::Store& store, Follower& follower)
    : node_(node),
      store_(store),
      follower_(follower),
      stubs_(node.view()),
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
      wake_.wait_for(lock, kHeartbeat / 2, [this] { return poked_ || stopping_; });
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
  const int64_t now_ms = WallMs();
  for (auto& [shard, leadership] : leading_) {
    const uint64_t durable = leadership->log->durable_end();
    for (FollowerProgress& follower : leadership->followers) {
      if (!follower.in_flight && now >= follower.retry_at &&
          (follower.next_from < durable || now - follower.last_sent >= kHeartbeat)) {
        Send(shard, *leadership, follower);
      }
    }
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
  std::map<ShardKey, Assignment> mine;
  for (auto& [shard, assignment] : node_.view().Assignments()) {
    if (assignment.replicated() && assignment.node_id == node_.node_id() && serving) {
      mine.emplace(shard, assignment);
    }
  }
  for (auto it = leading_.begin(); it != leading_.end();) {
    auto found = mine.find(it->first);
    if (found == mine.end() || found->second.epoch != it->second->epoch) {
      const ShardKey shard = (it++)->first;
      StopLeading(shard, serving ? "its leadership moved on" : "this node's lease has lapsed");
    } else {
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
  leadership->replica_count = assignment.replicas.size();
  leadership->assignment_revision = assignment.mod_revision;
  leadership->since = Clock::now();
  const uint64_t end = (*log)->durable_end();
  ReplicaState next = *state;
  next.fenced_epoch = assignment.epoch;
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
  for (const std::string& node_id : assignment.replicas) {
    if (node_id != node_.node_id()) {
      FollowerProgress& follower = leadership->followers.emplace_back();
      follower.node_id = node_id;
      follower.next_from = end;
    }
  }
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

void Replicator::StopLeading(const ShardKey& shard, const std::string& why) {
  auto it = leading_.find(shard);
  if (it == leading_.end()) {
    return;
  }
  it->second->log->SetDurableListener(nullptr);
  it->second->log->FailAwaiting(Status(
      ErrorCode::kInternalFailure,
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

void Replicator::Send(const ShardKey& shard, Leadership& leadership, FollowerProgress& follower) {
  v1::Replication::Stub* stub = stubs_.For(follower.node_id);
  const Clock::time_point now = Clock::now();
  if (stub == nullptr) {
    follower.retry_at = now + kRetryAfter;  // not a live member: try again when it is
    return;
  }
  struct Call {
    grpc::ClientContext context;
    v1::AppendRequest request;
    v1::AppendResponse response;
  };
  auto call = std::make_shared<Call>();
  v1::AppendRequest& request = call->request;
  request.mutable_shard()->set_stream_id(shard.first);
  request.mutable_shard()->set_ordinal(shard.second);
  request.set_epoch(leadership.epoch);
  request.set_leader_node_id(node_.node_id());
  request.set_prev_end(follower.next_from);
  for (const EpochStart& start : leadership.history) {
    v1::EpochStart* out = request.add_history();
    out->set_epoch(start.epoch);
    out->set_start_offset(start.start_offset);
  }
  StatusOr<storage::ReadResult> read =
      leadership.log->ReadDurable(follower.next_from, kMaxEntriesPerAppend, kMaxBytesPerAppend);
  if (!read.ok()) {
    spdlog::error("cluster: cannot read {} to replicate it: {}",
                  ShardName(shard.first, shard.second), read.status().ToString());
    follower.retry_at = now + kRetryAfter;
    return;
  }
  for (storage::ReadRecord& record : read->records) {
    v1::Entry* entry = request.add_entries();
    entry->set_offset(record.offset);
    entry->set_value(storage::EncodeRecord(record.record.arrival_ms, record.record.partition_key,
                                           record.record.data));
  }
  request.set_end(std::max(read->next_offset, follower.next_from));
  request.set_high_watermark(leadership.log->committed_end());
  call->context.set_deadline(std::chrono::system_clock::now() + kAppendDeadline);
  follower.in_flight = true;
  follower.last_sent = now;
  {
    std::lock_guard lock(mu_);
    ++in_flight_;
  }
  stub->async()->Append(
      &call->context, &call->request, &call->response,
      [this, call, shard, epoch = leadership.epoch, node_id = follower.node_id](
          grpc::Status status) {
        {
          std::lock_guard lock(mu_);
          completions_.push_back(
              Completion{shard, epoch, node_id, std::move(status), std::move(call->response)});
          --in_flight_;
          poked_ = true;
        }
        wake_.notify_all();
      });
}

void Replicator::Handle(const Completion& completion) {
  auto it = leading_.find(completion.shard);
  if (it == leading_.end() || it->second->epoch != completion.epoch) {
    return;  // an answer for a leadership that is over
  }
  Leadership& leadership = *it->second;
  auto follower = std::find_if(
      leadership.followers.begin(), leadership.followers.end(),
      [&](const FollowerProgress& f) { return f.node_id == completion.node_id; });
  if (follower == leadership.followers.end()) {
    return;
  }
  follower->in_flight = false;
  const Clock::time_point now = Clock::now();
  if (!completion.status.ok()) {
    follower->retry_at = now + kRetryAfter;
    return;
  }
  const v1::AppendResponse& response = completion.response;
  switch (response.result()) {
    case v1::AppendResponse::OK:
      follower->acked_end = response.end();
      follower->next_from = response.end();
      follower->last_ok = now;
      break;
    case v1::AppendResponse::GAP:
      follower->next_from = response.end();
      follower->last_ok = now;
      break;
    case v1::AppendResponse::FENCED:
      StopLeading(completion.shard,
                  fmt::format("replica {} has promised epoch {}", completion.node_id,
                              response.epoch()));
      return;
    default:
      spdlog::error("cluster: replica {} refused {} from node {} in epoch {} (would cut "
                    "committed entries)",
                    completion.node_id, ShardName(completion.shard.first,
                                                  completion.shard.second),
                    node_.node_id(), leadership.epoch);
      follower->retry_at = now + 5 * kRetryAfter;
      return;
  }
  if (follower->next_from < leadership.log->durable_end()) {
    Send(completion.shard, leadership, *follower);  // more to ship: at once
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
  for (const FollowerProgress& follower : leadership.followers) {
    ends.push_back(follower.acked_end);
    const bool fresh = follower.last_ok != Clock::time_point{} &&
                       now - follower.last_ok < kInSyncWindow;
    in_sync += fresh ? 1 : 0;
    if (fresh) {
      in_sync_nodes.push_back(follower.node_id);
    }
    described.followers.push_back({follower.node_id, follower.acked_end, fresh});
  }
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
