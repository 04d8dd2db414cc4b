#include "server/cluster/shard_mover.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/cluster/peer_client.h"
#include "storage/format.h"

namespace riffle::cluster {
namespace {

constexpr auto kLookAgain = std::chrono::milliseconds(500);
// Moves in flight at once: each holds its shard's writes up, so few at a time.
constexpr size_t kMaxConcurrentMoves = 2;
constexpr int64_t kCopyPageRecords = 10'000;
// How long a seal waits for a majority to hold a replicated shard's last writes before it
// tries again on the next round (the mover thread has other shards to seal and copy).
constexpr auto kReplicatedSealWait = std::chrono::milliseconds(200);

// A move's step: the shard of one copy, on `node_id` in `epoch`. Learners being filled are
// dropped (they follow the old owner's log); the stream's replication factor stays.
Assignment Handover(const Assignment& assignment, const std::string& node_id, uint64_t epoch) {
  Assignment next;
  next.node_id = node_id;
  next.epoch = epoch;
  next.replication_factor = assignment.replication_factor;
  return next;
}

}  // namespace

ShardMover::ShardMover(ClusterNode& node, storage::Store& store,
                       std::function<std::shared_ptr<PeerClient>(const std::string&)> peer_of,
                       std::function<void()> controller_round)
    : node_(node),
      store_(store),
      peer_of_(std::move(peer_of)),
      controller_round_(std::move(controller_round)),
      thread_([this] { Run(); }) {}

ShardMover::~ShardMover() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ShardMover::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  wake_.notify_one();
}

bool ShardMover::Writable(const broker::ShardRef& shard, uint64_t epoch) const {
  auto it = sealed_.find(shard);
  return it == sealed_.end() || it->second < epoch;
}

void ShardMover::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, kLookAgain, [this] { return stopping_ || poked_; });
    if (stopping_) {
      return;
    }
    poked_ = false;
    lock.unlock();
    Step();
    lock.lock();
  }
}

void ShardMover::Step() {
  if (node_.membership().IsController()) {
    controller_round_();  // before a copy may hold this thread up
  }
  const std::string& me = node_.node_id();
  for (const auto& [key, assignment] : node_.view().Assignments()) {
    if (assignment.moving_to.empty() && !assignment.closing) {
      continue;
    }
    const broker::ShardRef shard{key.first, key.second};
    if (assignment.node_id == me) {
      SealAsSource(shard, assignment);
    } else if (assignment.moving_to == me) {
      std::optional<Seal> seal = node_.view().SealOf(shard.stream_id, shard.ordinal);
      if (seal && seal->epoch == assignment.epoch) {
        CopyAsTarget(shard, assignment, *seal);
      }
    }
  }
  if (node_.membership().IsController()) {
    Rebalance();
  }
}

void ShardMover::SealAsSource(const broker::ShardRef& shard, const Assignment& assignment) {
  {
    std::unique_lock gate(write_gate_);
    uint64_t& sealed_epoch = sealed_[shard];
    sealed_epoch = std::max(sealed_epoch, assignment.epoch);
  }
  if (auto it = published_.find(shard); it != published_.end() && it->second >= assignment.epoch) {
    return;  // sealed and published in this epoch already
  }
  // Writes admitted before the gate closed are queued: once they commit, the end is final.
  store_.pipeline().Drain();
  StatusOr<std::shared_ptr<storage::ShardLog>> log =
      store_.OpenShard(shard.stream_id, shard.ordinal);
  if (!log.ok()) {
    spdlog::error("cluster: cannot seal shard {}/{}: {}", shard.stream_id, shard.ordinal,
                  log.status().ToString());
    return;
  }
  // A replicated shard's queued writes are on disk here now; they count once a majority of its
  // replicas holds them, which a follower's next acknowledgement usually shows.
  const auto deadline = std::chrono::steady_clock::now() + kReplicatedSealWait;
  while ((*log)->committed_end() < (*log)->durable_end() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const uint64_t end = (*log)->committed_end();
  if (end < (*log)->durable_end()) {
    spdlog::warn("cluster: shard {}/{} is not sealed yet: {} of its entries await a majority of "
                 "its replicas",
                 shard.stream_id, shard.ordinal, (*log)->durable_end() - end);
    return;  // tried again next round
  }
  const std::string& prefix = node_.membership().Key("");
  StatusOr<TxnResult> txn = node_.etcd().Txn(
      {Compare::ModRevision(prefix + AssignmentKey(shard.stream_id, shard.ordinal),
                            Compare::Result::kEqual, assignment.mod_revision)},
      {Op::Put(prefix + SealKey(shard.stream_id, shard.ordinal),
               EncodeSeal(Seal{end, assignment.epoch}))});
  if (!txn.ok() || !txn->succeeded) {
    return;  // etcd unreachable, or the assignment changed: looked at again next round
  }
  published_[shard] = assignment.epoch;
  spdlog::info("cluster: shard {}/{} sealed at {} {}", shard.stream_id, shard.ordinal, end,
               assignment.closing ? std::string("to close it")
                                  : "for its move to " + assignment.moving_to);
}

void ShardMover::CopyAsTarget(const broker::ShardRef& shard, const Assignment& assignment,
                              const Seal& seal) {
  if (Status copied = Copy(shard, assignment, seal); !copied.ok()) {
    spdlog::warn("cluster: copying shard {}/{} from {} failed (will retry): {}", shard.stream_id,
                 shard.ordinal, assignment.node_id, copied.ToString());
    return;
  }
  const std::string& prefix = node_.membership().Key("");
  StatusOr<TxnResult> txn = node_.etcd().Txn(
      {Compare::ModRevision(prefix + AssignmentKey(shard.stream_id, shard.ordinal),
                            Compare::Result::kEqual, assignment.mod_revision)},
      {Op::Put(prefix + AssignmentKey(shard.stream_id, shard.ordinal),
               EncodeAssignment(Handover(assignment, node_.node_id(), assignment.epoch + 1))),
       Op::Delete(prefix + SealKey(shard.stream_id, shard.ordinal))});
  if (txn.ok() && txn->succeeded) {
    spdlog::info("cluster: shard {}/{} moved from {} to {} with {} records", shard.stream_id,
                 shard.ordinal, assignment.node_id, node_.node_id(), seal.end);
  }
}

Status ShardMover::Copy(const broker::ShardRef& shard, const Assignment& assignment,
                        const Seal& seal) {
  StatusOr<std::shared_ptr<storage::ShardLog>> log =
      store_.OpenShard(shard.stream_id, shard.ordinal);
  RIFFLE_RETURN_IF_ERROR(log.status());
  if ((*log)->replicated()) {
    // This node was a learner of the shard: what it holds is a prefix of the source's log
    // (shipped from it), so the copy goes on from its end, as this node's only copy.
    (*log)->SetReplicated(false, 0);
  }
  uint64_t from = (*log)->committed_end();
  if (from >= seal.end) {
    return Status();  // copied before (a retry after the final transaction failed)
  }
  std::shared_ptr<PeerClient> source = peer_of_(assignment.node_id);
  if (source == nullptr) {
    return Status(ErrorCode::kServiceUnavailable, "the source node is down");
  }
  // The stream's name, which the source's API takes.
  RIFFLE_ASSIGN_OR_RETURN(auto streams, node_.StreamsById());
  auto stream = streams.find(shard.stream_id);
  if (stream == streams.end()) {
    return Status(ErrorCode::kResourceNotFound, "the stream is gone");
  }
  const std::string& name = stream->second.name;
  const broker::RequestContext ctx;
  broker::GetShardIteratorRequest start;
  start.stream.name = name;
  start.shard_id = storage::FormatShardId(shard.ordinal);
  start.shard_iterator_type = "AT_SEQUENCE_NUMBER";
  start.starting_sequence_number = storage::FormatSequenceNumber(shard.ordinal, from + 1);
  RIFFLE_ASSIGN_OR_RETURN(std::string iterator, source->GetShardIterator(ctx, start));
  while (from < seal.end) {
    broker::GetRecordsRequest page;
    page.shard_iterator = iterator;
    page.limit = kCopyPageRecords;
    RIFFLE_ASSIGN_OR_RETURN(broker::GetRecordsResult result, source->GetRecords(ctx, page));
    std::vector<std::pair<uint64_t, std::string>> records;
    for (const broker::Record& record : result.records) {
      std::optional<storage::SequencePosition> position =
          storage::ParseSequenceNumber(record.sequence_number);
      if (!position || position->position == 0 || position->position > seal.end) {
        continue;
      }
      records.emplace_back(position->position - 1,
                           storage::EncodeRecord(record.arrival_time_ms, record.partition_key,
                                                 record.data));
    }
    const uint64_t next = records.empty() ? seal.end : records.back().first + 1;
    storage::Store::CopiedRecords copied;
    copied.records = std::move(records);
    copied.end = result.records.empty() ? seal.end : next;
    RIFFLE_RETURN_IF_ERROR(store_.WriteCopiedRecords(shard.stream_id, shard.ordinal, copied));
    from = result.records.empty() ? seal.end : next;
    if (!result.next_shard_iterator) {
      break;
    }
    iterator = *result.next_shard_iterator;
  }
  return Status();
}

void ShardMover::Rebalance() {
  // Only shards of one voting copy move this way (learners being filled are dropped by the
  // move); a replicated one has copies on other nodes already and fails over to one of them.
  auto assignments = node_.view().Assignments();
  std::erase_if(assignments, [](const auto& entry) { return entry.second.voters() > 1; });
  std::map<std::string, size_t> load;
  std::set<std::string> draining;
  std::set<std::string> alive;
  for (const Member& member : node_.view().Members()) {
    alive.insert(member.node_id);
    if (member.draining) {
      draining.insert(member.node_id);
    } else {
      load[member.node_id] = 0;
    }
  }
  size_t moving = 0;
  const std::string prefix = node_.membership().Key("");
  for (const auto& [key, assignment] : assignments) {
    if (!assignment.moving_to.empty()) {
      ++moving;
      if (alive.count(assignment.moving_to) == 0) {
        // The target left: the move cannot finish; the source takes its shard back.
        node_.etcd()
            .Txn({Compare::ModRevision(prefix + AssignmentKey(key.first, key.second),
                                       Compare::Result::kEqual, assignment.mod_revision)},
                 {Op::Put(prefix + AssignmentKey(key.first, key.second),
                          EncodeAssignment(Handover(assignment, assignment.node_id,
                                                    assignment.epoch + 1))),
                  Op::Delete(prefix + SealKey(key.first, key.second))})
            .status()
            .IgnoreError();  // looked at again next round
      }
      continue;
    }
    if (auto it = load.find(assignment.node_id); it != load.end()) {
      ++it->second;
    }
  }
  if (load.empty()) {
    return;
  }
  auto least = [&] {
    return std::min_element(load.begin(), load.end(),
                            [](const auto& a, const auto& b) { return a.second < b.second; });
  };
  for (const auto& [key, assignment] : assignments) {
    if (moving >= kMaxConcurrentMoves) {
      return;
    }
    if (assignment.moving_to.empty() && !assignment.closing &&
        draining.count(assignment.node_id) != 0) {
      auto target = least();
      if (StartMove({key.first, key.second}, assignment, target->first)) {
        ++target->second;
        ++moving;
      }
    }
  }
  if (moving > 0 || !draining.empty()) {
    return;  // balance once the drains are done
  }
  // A shard of one copy whose stream wants more is given more by ReplicaPlanner, not moved.
  std::erase_if(assignments,
                [&](const auto& entry) { return node_.ReplicationFactorOf(entry.second) > 1; });
  auto most = std::max_element(load.begin(), load.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  auto fewest = least();
  if (most->second <= fewest->second + 1) {
    return;
  }
  for (const auto& [key, assignment] : assignments) {
    if (assignment.node_id == most->first && assignment.moving_to.empty() &&
        !assignment.closing) {
      StartMove({key.first, key.second}, assignment, fewest->first);
      return;
    }
  }
}

bool ShardMover::StartMove(const broker::ShardRef& shard, const Assignment& assignment,
                           const std::string& target) {
  if (target == assignment.node_id) {
    return false;
  }
  Assignment moving = Handover(assignment, assignment.node_id, assignment.epoch + 1);
  moving.moving_to = target;
  const bool started =
      node_.ReplaceAssignment(shard.stream_id, shard.ordinal, assignment, moving);
  if (started) {
    spdlog::info("cluster: moving shard {}/{} from {} to {}", shard.stream_id, shard.ordinal,
                 assignment.node_id, target);
  }
  return started;
}

}  // namespace riffle::cluster
