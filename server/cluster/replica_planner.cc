#include "server/cluster/replica_planner.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "storage/format.h"

namespace riffle::cluster {
namespace {

// Shards being filled at once, cluster-wide: each fill reads the whole shard on its leader and
// writes it on its learner, beside the writes those nodes serve.
constexpr size_t kMaxLearnersInFlight = 64;

bool Contains(const std::vector<std::string>& nodes, const std::string& node_id) {
  return std::find(nodes.begin(), nodes.end(), node_id) != nodes.end();
}

}  // namespace

void ReplicaPlanner::Round() {
  std::set<std::string> alive;
  for (const Member& member : node_.view().Members()) {
    if (!member.draining) {
      alive.insert(member.node_id);
    }
  }
  const auto assignments = node_.view().Assignments();
  std::map<std::string, size_t> copies;  // per live node
  for (const std::string& node_id : alive) {
    copies[node_id] = 0;
  }
  size_t filling = 0;
  for (const auto& [shard, assignment] : assignments) {
    filling += assignment.learners.empty() ? 0 : 1;
    for (const std::string& node_id : assignment.replicas.empty()
                                          ? std::vector<std::string>{assignment.node_id}
                                          : assignment.replicas) {
      if (auto it = copies.find(node_id); it != copies.end()) {
        ++it->second;
      }
    }
    for (const std::string& node_id : assignment.learners) {
      if (auto it = copies.find(node_id); it != copies.end()) {
        ++it->second;
      }
    }
  }
  for (const auto& [shard, assignment] : assignments) {
    if (assignment.node_id.empty() || !assignment.moving_to.empty() || assignment.closing ||
        alive.count(assignment.node_id) == 0) {
      continue;  // electing, moving, closing or led by no live node: not now
    }
    const std::string name =
        fmt::format("stream {} {}", shard.first, storage::FormatShardId(shard.second));
    if (!assignment.learners.empty()) {
      auto gone = std::find_if(assignment.learners.begin(), assignment.learners.end(),
                               [&](const std::string& node_id) { return !alive.count(node_id); });
      if (gone != assignment.learners.end()) {
        // A learner that died or is leaving will not catch up: another node takes its place.
        Assignment without = assignment;
        std::erase(without.learners, *gone);
        if (node_.ReplaceAssignment(shard.first, shard.second, assignment, without)) {
          spdlog::info("cluster: node {} is no longer a learner of {}: it left", *gone, name);
        }
        continue;
      }
      // Only a report written since the assignment took its current form: an older one may
      // name a learner that left and came back empty.
      std::optional<InSync> in_sync = node_.view().InSyncOf(shard.first, shard.second);
      if (!in_sync || in_sync->epoch != assignment.epoch ||
          in_sync->mod_revision <= assignment.mod_revision) {
        continue;
      }
      for (const std::string& learner : assignment.learners) {
        if (!Contains(in_sync->replicas, learner)) {
          continue;
        }
        Assignment promoted = assignment;
        promoted.replicas.push_back(learner);
        std::erase(promoted.learners, learner);
        if (node_.ReplaceAssignment(shard.first, shard.second, assignment, promoted)) {
          spdlog::info("cluster: node {} caught up with {} and votes for it now ({} copies)",
                       learner, name, promoted.replicas.size());
        }
        break;  // one voter more at a time
      }
      continue;
    }
    const std::vector<std::string> voters = assignment.replicas.empty()
                                                ? std::vector<std::string>{assignment.node_id}
                                                : assignment.replicas;
    const size_t wanted = std::min(node_.ReplicationFactorOf(assignment), alive.size());
    if (voters.size() >= wanted || filling >= kMaxLearnersInFlight) {
      continue;
    }
    std::optional<std::string> target;
    for (const auto& [node_id, count] : copies) {
      if (!Contains(voters, node_id) && (!target || count < copies[*target])) {
        target = node_id;
      }
    }
    if (!target) {
      continue;
    }
    Assignment grown = assignment;
    grown.replicas = voters;
    grown.learners = {*target};
    if (node_.ReplaceAssignment(shard.first, shard.second, assignment, grown)) {
      ++copies[*target];
      ++filling;
      spdlog::info("cluster: node {} receives a copy of {} as a learner ({} of {} copies)", *target,
                   name, voters.size(), wanted);
    }
  }
}

}  // namespace riffle::cluster
