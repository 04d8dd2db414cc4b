#include "server/cluster/cluster_node.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "server/cluster/replica_state.h"
#include "storage/format.h"
#include "storage/store.h"

namespace riffle::cluster {
namespace {

// etcd's default limit of operations in one transaction.
constexpr size_t kMaxTxnOps = 128;
constexpr auto kCatchUpTimeout = std::chrono::seconds(5);

bool IsStreamKey(std::string_view key) { return key.starts_with(storage::kCatalogStreamPrefix); }

}  // namespace

ClusterNode::ClusterNode(ClusterOptions options, storage::Store& store)
    : options_(std::move(options)), store_(store) {}

ClusterNode::~ClusterNode() = default;

StatusOr<std::unique_ptr<ClusterNode>> ClusterNode::Start(ClusterOptions options,
                                                          storage::Store& store) {
  std::unique_ptr<ClusterNode> node(new ClusterNode(std::move(options), store));
  StatusOr<std::unique_ptr<EtcdClient>> etcd =
      EtcdClient::Connect(node->options_.etcd_endpoints, std::chrono::seconds(3));
  if (!etcd.ok()) {
    return Status(etcd.status().code(),
                  "cannot reach etcd at --etcd-endpoints: " + etcd.status().message());
  }
  node->etcd_ = std::move(etcd).value();
  ClusterNode* self = node.get();
  RIFFLE_ASSIGN_OR_RETURN(node->membership_,
                          Membership::Join(*node->etcd_, node->options_.membership, [] {}));
  storage::CatalogChange cluster_catalog;
  RIFFLE_ASSIGN_OR_RETURN(
      node->view_,
      ClusterView::Start(
          *node->etcd_, ClusterPrefix(node->options_.membership.cluster_name), cluster_catalog,
          [self](const storage::CatalogChange& change, int64_t revision) {
            self->OnCatalog(change, revision);
          },
          [self] {
            std::lock_guard lock(self->topology_mu_);
            if (self->topology_listener_) {
              self->topology_listener_();
            }
          }));
  RIFFLE_RETURN_IF_ERROR(node->Bootstrap(cluster_catalog));
  store.SetCatalogPublisher(
      [self](const storage::CatalogChange& change) { return self->Publish(change); });
  return node;
}

Status ClusterNode::Bootstrap(const storage::CatalogChange& cluster_catalog) {
  RIFFLE_ASSIGN_OR_RETURN(auto local, store_.ScanCatalog(""));
  const bool joined_before = std::any_of(local.begin(), local.end(), [](const auto& kv) {
    return kv.first == storage::kCatalogClusterKey;
  });
  const bool has_streams =
      std::any_of(local.begin(), local.end(), [](const auto& kv) { return IsStreamKey(kv.first); });
  const bool cluster_has_streams = std::any_of(
      cluster_catalog.puts.begin(), cluster_catalog.puts.end(),
      [](const auto& kv) { return IsStreamKey(kv.first); });
  if (!joined_before && has_streams) {
    if (cluster_has_streams || !membership_->IsController()) {
      return Status(ErrorCode::kResourceInUse,
                    "the data directory holds a single node's streams and cluster '" +
                        options_.membership.cluster_name +
                        "' already has a catalog; start this node with an empty --data-dir, or "
                        "start it first in a new cluster to make its streams the cluster's");
    }
    // The cluster's first node brings its streams, which it holds all the data of.
    storage::CatalogChange adopt;
    for (const auto& [key, value] : local) {
      if (IsStreamKey(key) || key == storage::kCatalogNextStreamIdKey) {
        adopt.puts.emplace_back(key, value);
      }
    }
    RIFFLE_RETURN_IF_ERROR(Publish(adopt));
    spdlog::info("cluster: this node's {} catalog entries became cluster {}'s",
                 adopt.puts.size(), options_.membership.cluster_name);
  }
  // One iterator secret for the whole cluster, so an iterator from any node reads on any.
  std::string secret(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size()));
  const std::string secret_key =
      membership_->Key(CatalogKey(storage::kCatalogIteratorSecretKey));
  RIFFLE_ASSIGN_OR_RETURN(
      TxnResult txn, etcd_->Txn({Compare::CreateRevision(secret_key, Compare::Result::kEqual, 0)},
                                {Op::Put(secret_key, secret)}, {Op::Get(secret_key)}));
  if (!txn.succeeded && !txn.ranges.empty() && !txn.ranges.front().empty()) {
    secret = txn.ranges.front().front().value;
  }
  // The local catalog becomes a copy of the cluster's (taken at the view's first revision;
  // the watch applies everything after it).
  storage::CatalogChange mirror;
  std::set<std::string> in_cluster;
  for (const auto& [key, value] : cluster_catalog.puts) {
    mirror.puts.emplace_back(key, value);
    in_cluster.insert(key);
  }
  mirror.puts.emplace_back(std::string(storage::kCatalogIteratorSecretKey), secret);
  in_cluster.insert(std::string(storage::kCatalogIteratorSecretKey));
  mirror.puts.emplace_back(std::string(storage::kCatalogClusterKey),
                           options_.membership.cluster_name);
  in_cluster.insert(std::string(storage::kCatalogClusterKey));
  if (joined_before || !has_streams) {
    for (const auto& [key, value] : local) {
      // Replica states are this node's own, not the cluster's catalog.
      if (in_cluster.count(key) == 0 && !key.starts_with(kReplicaStatePrefix)) {
        mirror.deletes.push_back(key);  // deleted in the cluster while this node was away
      }
    }
  }
  return store_.ApplyCatalog(mirror);
}

void ClusterNode::SetTopologyListener(std::function<void()> listener) {
  std::lock_guard lock(topology_mu_);
  topology_listener_ = std::move(listener);
}

void ClusterNode::SetPublishGuard(PublishGuard guard) {
  std::lock_guard lock(catalog_mu_);
  publish_guard_ = std::move(guard);
}

void ClusterNode::Attach(broker::Broker& broker) {
  std::lock_guard lock(catalog_mu_);
  broker_ = &broker;
  for (auto& [change, revision] : pending_) {
    if (Status applied = broker_->ApplyCatalogChange(change); !applied.ok()) {
      spdlog::error("cluster: cannot apply catalog change of revision {}: {}", revision,
                    applied.ToString());
    }
  }
  pending_.clear();
}

void ClusterNode::Drain(std::chrono::milliseconds limit) {
  const auto others = [this] {
    size_t count = 0;
    for (const Member& member : view_->Members()) {
      count += member.node_id != node_id() && !member.draining ? 1 : 0;
    }
    return count;
  };
  // Replicated shards need no moving: when this node leaves, their followers take over.
  const auto owned = [this] {
    size_t count = 0;
    for (const auto& [shard, assignment] : view_->Assignments()) {
      count += assignment.voters() == 1 &&
                       (assignment.node_id == node_id() || assignment.moving_to == node_id())
                   ? 1
                   : 0;
    }
    return count;
  };
  if (owned() == 0 || others() == 0) {
    return;  // nothing to hand over, or nobody to hand it to
  }
  if (Status marked = membership_->StartDraining(); !marked.ok()) {
    spdlog::warn("cluster: cannot mark node {} draining: {}", node_id(), marked.ToString());
    return;
  }
  spdlog::info("cluster: draining node {}: moving its {} shards away", node_id(), owned());
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (owned() > 0 && others() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (owned() > 0) {
    spdlog::warn("cluster: node {} leaves with {} shards not moved; they are unavailable until "
                 "it returns",
                 node_id(), owned());
  }
}

void ClusterNode::Leave() {
  view_.reset();  // no more catalog changes into a broker that is shutting down
  membership_->Leave();
}

Status ClusterNode::CatchUp() {
  RIFFLE_ASSIGN_OR_RETURN(RangeResult now, etcd_->GetPrefix(membership_->Key("controller")));
  if (!view_->WaitFor(now.revision, kCatchUpTimeout)) {
    return Status(ErrorCode::kServiceUnavailable,
                  "this node's copy of the cluster state is behind etcd; try again");
  }
  return Status();
}

StatusOr<std::map<uint64_t, storage::StreamMeta>> ClusterNode::StreamsById() const {
  RIFFLE_ASSIGN_OR_RETURN(auto entries, store_.ScanCatalog(storage::kCatalogStreamPrefix));
  std::map<uint64_t, storage::StreamMeta> out;
  for (const auto& [key, value] : entries) {
    if (std::optional<storage::StreamMeta> meta = storage::DecodeStreamMeta(value)) {
      out.emplace(meta->id, std::move(*meta));
    }
  }
  return out;
}

bool ClusterNode::ReplaceAssignment(uint64_t stream_id, uint32_t ordinal,
                                    const Assignment& current, const Assignment& next,
                                    std::vector<Op> more) {
  const std::string key = membership_->Key(AssignmentKey(stream_id, ordinal));
  more.push_back(Op::Put(key, EncodeAssignment(next)));
  StatusOr<TxnResult> txn = etcd_->Txn(
      {Compare::CreateRevision(membership_->Key("controller"), Compare::Result::kEqual,
                               membership_->controller_epoch()),
       Compare::ModRevision(key, Compare::Result::kEqual, current.mod_revision)},
      more);
  return txn.ok() && txn->succeeded;
}

void ClusterNode::OnCatalog(const storage::CatalogChange& change, int64_t revision) {
  broker::Broker* broker = nullptr;
  {
    std::lock_guard lock(catalog_mu_);
    if (revision <= last_published_revision_) {
      return;  // this node made the change and has applied it already
    }
    if (broker_ == nullptr) {
      pending_.emplace_back(change, revision);
      return;
    }
    broker = broker_;
  }
  // Outside catalog_mu_: the broker takes its own locks, and one of its operations may be
  // publishing (holding those, waiting for catalog_mu_) right now.
  if (Status applied = broker->ApplyCatalogChange(change); !applied.ok()) {
    spdlog::error("cluster: cannot apply catalog change of revision {}: {}", revision,
                  applied.ToString());
  }
}

std::vector<Op> ClusterNode::PlaceNewShards(const storage::CatalogChange& change) {
  std::map<std::string, size_t> load;
  for (const Member& member : view_->Members()) {
    load[member.node_id] = 0;
  }
  const auto assignments = view_->Assignments();
  for (const auto& [shard, assignment] : assignments) {
    if (!assignment.replicated()) {
      if (auto it = load.find(assignment.node_id); it != load.end()) {
        ++it->second;
      }
    }
    for (const std::string& replica : assignment.replicas) {
      if (auto it = load.find(replica); it != load.end()) {
        ++it->second;
      }
    }
  }
  std::vector<Op> ops;
  if (load.empty()) {
    return ops;
  }
  for (const auto& [key, value] : change.puts) {
    if (!IsStreamKey(key)) {
      continue;
    }
    std::optional<storage::StreamMeta> meta = storage::DecodeStreamMeta(value);
    if (!meta) {
      continue;
    }
    for (const storage::ShardMeta& shard : meta->shards) {
      if (assignments.count({meta->id, shard.ordinal}) != 0) {
        continue;
      }
      // The least loaded nodes; among equals, ones picked by the shard's ids, so that streams
      // of one shard do not all land on the same node. The first leads.
      Assignment assignment;
      assignment.replication_factor = meta->replication_factor;
      const size_t copies = std::min(load.size(), ReplicationFactorOf(assignment));
      std::vector<std::pair<size_t, std::string>> ranked;  // (load, rotation) order
      const size_t rotate = (meta->id + shard.ordinal) % load.size();
      size_t index = 0;
      for (const auto& [node_id, count] : load) {
        ranked.emplace_back(count * load.size() + (index++ + load.size() - rotate) % load.size(),
                            node_id);
      }
      std::sort(ranked.begin(), ranked.end());
      assignment.node_id = ranked.front().second;
      assignment.epoch = 1;
      for (size_t i = 0; i < copies && copies > 1; ++i) {
        assignment.replicas.push_back(ranked[i].second);
      }
      for (size_t i = 0; i < copies; ++i) {
        ++load[ranked[i].second];
      }
      ops.push_back(Op::Put(membership_->Key(AssignmentKey(meta->id, shard.ordinal)),
                            EncodeAssignment(assignment)));
    }
  }
  return ops;
}

Status ClusterNode::Publish(const storage::CatalogChange& change) {
  std::lock_guard lock(catalog_mu_);
  const int64_t epoch = membership_->controller_epoch();
  if (epoch == 0 || !membership_->Serving()) {
    return Status(ErrorCode::kServiceUnavailable,
                  "node " + node_id() + " is not the cluster's controller; catalog changes go "
                  "through the controller");
  }
  const Compare still_controller =
      Compare::CreateRevision(membership_->Key("controller"), Compare::Result::kEqual, epoch);
  // Owners of new shards first, in transactions of etcd's size: the catalog entry that makes
  // a stream visible comes last, when every shard of it has an owner.
  std::vector<Op> placements = PlaceNewShards(change);
  for (size_t at = 0; at < placements.size(); at += kMaxTxnOps - 1) {
    std::vector<Op> chunk(placements.begin() + static_cast<std::ptrdiff_t>(at),
                          placements.begin() + static_cast<std::ptrdiff_t>(
                                                   std::min(placements.size(), at + kMaxTxnOps - 1)));
    RIFFLE_ASSIGN_OR_RETURN(TxnResult placed, etcd_->Txn({still_controller}, chunk));
    if (!placed.succeeded) {
      return Status(ErrorCode::kServiceUnavailable, "this node stopped being the controller");
    }
  }
  std::vector<Op> ops;
  for (const auto& [key, value] : change.puts) {
    ops.push_back(Op::Put(membership_->Key(CatalogKey(key)), value));
  }
  for (const std::string& key : change.deletes) {
    ops.push_back(Op::Delete(membership_->Key(CatalogKey(key))));
    if (IsStreamKey(key)) {
      // A deleted stream's shards lose their owners with it.
      RIFFLE_ASSIGN_OR_RETURN(std::optional<KeyValue> entry,
                              etcd_->Get(membership_->Key(CatalogKey(key))));
      if (entry) {
        if (std::optional<storage::StreamMeta> meta = storage::DecodeStreamMeta(entry->value)) {
          ops.push_back(Op::DeletePrefix(membership_->Key(StreamAssignmentsPrefix(meta->id))));
          ops.push_back(Op::DeletePrefix(membership_->Key(StreamInSyncPrefix(meta->id))));
          ops.push_back(Op::DeletePrefix(membership_->Key(StreamSealsPrefix(meta->id))));
        }
      }
    }
  }
  std::vector<Compare> guards{still_controller};
  if (publish_guard_) {
    for (Compare& guard : publish_guard_(change)) {
      guards.push_back(std::move(guard));
    }
  }
  RIFFLE_ASSIGN_OR_RETURN(TxnResult txn, etcd_->Txn(guards, ops));
  if (!txn.succeeded) {
    return Status(ErrorCode::kServiceUnavailable,
                  "the catalog changed under this change (this node stopped being the "
                  "controller, or a shard it closes was reopened); try again");
  }
  last_published_revision_ = txn.revision;
  return Status();
}

}  // namespace riffle::cluster
