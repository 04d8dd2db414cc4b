#include "server/cluster/elector.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include "storage/format.h"

namespace riffle::cluster {
namespace {

using namespace std::chrono_literals;

constexpr auto kRoundEvery = 250ms;
constexpr auto kFenceDeadline = 1s;

}  // namespace

Elector::Elector(ClusterNode& node)
    : node_(node), stubs_(node.view(), node.peer_security()), thread_([this] { Run(); }) {}

Elector::~Elector() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Elector::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

void Elector::Run() {
  pthread_setname_np(pthread_self(), "riffle-elect");
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kRoundEvery, [this] { return poked_ || stopping_; });
      poked_ = false;
      if (stopping_) {
        return;
      }
    }
    if (node_.membership().IsController() && node_.membership().Serving()) {
      Round();
    }
  }
}

void Elector::Round() {
  for (const auto& [shard, assignment] : node_.view().Assignments()) {
    if (assignment.voters() < 2) {
      continue;  // one voting copy: nobody else to elect; it waits for its owner
    }
    if (!assignment.node_id.empty() && node_.view().FindMember(assignment.node_id)) {
      continue;  // led by a live node
    }
    Elect(shard.first, shard.second, assignment);
  }
}

void Elector::Elect(uint64_t stream_id, uint32_t ordinal, const Assignment& assignment) {
  const std::string key = node_.membership().Key(AssignmentKey(stream_id, ordinal));
  const Compare still_controller =
      Compare::CreateRevision(node_.membership().Key("controller"), Compare::Result::kEqual,
                              node_.membership().controller_epoch());
  const std::string shard_name =
      fmt::format("stream {} {}", stream_id, storage::FormatShardId(ordinal));
  Assignment electing = assignment;
  if (!assignment.node_id.empty()) {
    // 1. Reserve the next epoch, with no leader.
    electing.node_id.clear();
    electing.epoch = assignment.epoch + 1;
    StatusOr<TxnResult> reserved = node_.etcd().Txn(
        {still_controller,
         Compare::ModRevision(key, Compare::Result::kEqual, assignment.mod_revision)},
        {Op::Put(key, EncodeAssignment(electing))});
    if (!reserved.ok() || !reserved->succeeded) {
      return;  // the assignment changed meanwhile, or this node is no longer the controller
    }
    electing.mod_revision = reserved->revision;
    spdlog::info("cluster: leader {} of {} is gone; electing a new one for epoch {}",
                 assignment.node_id, shard_name, electing.epoch);
  }
  // 2. Fence a majority.
  struct Answer {
    std::string node_id;
    v1::FenceResponse response;
  };
  std::vector<Answer> answers;
  for (const std::string& node_id : electing.replicas) {
    v1::Replication::Stub* stub = stubs_.For(node_id);
    if (stub == nullptr) {
      continue;
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kFenceDeadline);
    v1::FenceRequest request;
    request.mutable_shard()->set_stream_id(stream_id);
    request.mutable_shard()->set_ordinal(ordinal);
    request.set_epoch(electing.epoch);
    v1::FenceResponse response;
    if (stub->Fence(&context, request, &response).ok() && response.fenced()) {
      answers.push_back({node_id, response});
    }
  }
  const size_t quorum = electing.replicas.size() / 2 + 1;
  if (answers.size() < quorum) {
    spdlog::warn("cluster: {} has {} of {} replicas reachable; a new leader needs {}",
                 shard_name, answers.size(), electing.replicas.size(), quorum);
    return;
  }
  // 3. The most up-to-date log.
  const Answer* best = &answers.front();
  for (const Answer& answer : answers) {
    const auto rank = [](const v1::FenceResponse& r) {
      return std::make_pair(r.last_epoch(), r.end());
    };
    if (rank(answer.response) > rank(best->response)) {
      best = &answer;
    }
  }
  // 4. Publish.
  Assignment elected = electing;
  elected.node_id = best->node_id;
  StatusOr<TxnResult> published = node_.etcd().Txn(
      {still_controller, Compare::ModRevision(key, Compare::Result::kEqual, electing.mod_revision)},
      {Op::Put(key, EncodeAssignment(elected))});
  if (published.ok() && published->succeeded) {
    ++elections_;
    spdlog::info("cluster: node {} leads {} in epoch {} (its log ends at {}, epoch {})",
                 elected.node_id, shard_name, elected.epoch, best->response.end(),
                 best->response.last_epoch());
  }
}

}  // namespace riffle::cluster
