// One riffled's part in a cluster, wired together: the etcd client, the node's membership, its
// view of the cluster, and the controller's duties. Order of use (server/riffled/main.cc):
//   Start()  before the broker opens: joins, and makes the local catalog the cluster's (or, on a
//            cluster's first node, the cluster's catalog the local one);
//   Attach() once the broker is open: catalog changes from the controller flow into it;
//   Leave()  on SIGTERM.
//
// The catalog (docs/cluster.md §3): only the controller changes it. Its broker runs the
// operation as on a single node; Store::WriteCatalog publishes the change to etcd first, in a
// transaction guarded by the controller epoch, together with the owners of any new shards
// (placement: the live node with the fewest shards); every other node applies the change from
// its watch. A deposed controller's transaction fails, so it changes nothing.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/broker/broker.h"
#include "server/cluster/cluster_view.h"
#include "server/cluster/etcd_client.h"
#include "server/cluster/membership.h"
#include "server/cluster/peer_client.h"
#include "storage/catalog_change.h"
#include "storage/format.h"

namespace riffle::storage {
class Store;
}

namespace riffle::cluster {

struct ClusterOptions {
  std::vector<std::string> etcd_endpoints;
  MembershipOptions membership;
  // Copies of each new shard: min(this, live nodes); 1 is an unreplicated shard on one node.
  size_t replication_factor = 3;
  // How this node calls the others (TLS, the cluster key); by default plain text, no key.
  PeerSecurity peer_security;
};

class ClusterNode {
 public:
  static StatusOr<std::unique_ptr<ClusterNode>> Start(ClusterOptions options,
                                                      storage::Store& store);
  ~ClusterNode();

  void Attach(broker::Broker& broker);
  // Before leaving on SIGTERM: asks the controller to move this node's shards to the other
  // nodes, and waits (serving meanwhile) until none is left here or `limit` has passed.
  void Drain(std::chrono::milliseconds limit);
  void Leave();

  Membership& membership() { return *membership_; }
  ClusterView& view() { return *view_; }
  EtcdClient& etcd() { return *etcd_; }
  const std::string& node_id() const { return options_.membership.node_id; }
  const PeerSecurity& peer_security() const { return options_.peer_security; }
  // The copies a shard should have, as far as live nodes allow: its stream's choice, else the
  // cluster's.
  size_t ReplicationFactorOf(const Assignment& assignment) const {
    return assignment.replication_factor != 0 ? assignment.replication_factor
                                              : options_.replication_factor;
  }
  // Called (on the watch thread) after every change of members, controller or assignments.
  void SetTopologyListener(std::function<void()> listener);
  // Conditions a catalog change must still meet when it is published, besides this node being
  // the controller (a reshard's parents still sealed as it saw them). Set before Attach.
  using PublishGuard = std::function<std::vector<Compare>(const storage::CatalogChange&)>;
  void SetPublishGuard(PublishGuard guard);
  // Waits until this node's view has caught up with etcd as it is now: a read after a write
  // another node made sees that write.
  Status CatchUp();
  // The streams of this node's copy of the catalog, by stream id.
  StatusOr<std::map<uint64_t, storage::StreamMeta>> StreamsById() const;
  // The controller's change of one shard's assignment: writes `next` over `current`, with
  // `more` in the same transaction, only while this node is still the controller it was and
  // the assignment is still `current` (its mod_revision). Whether it did.
  bool ReplaceAssignment(uint64_t stream_id, uint32_t ordinal, const Assignment& current,
                         const Assignment& next, std::vector<Op> more = {});

 private:
  ClusterNode(ClusterOptions options, storage::Store& store);
  // Makes the local catalog and the cluster's agree before the broker loads it.
  Status Bootstrap(const storage::CatalogChange& cluster_catalog);
  Status Publish(const storage::CatalogChange& change);
  // The assignment puts for the shards of the streams in `change` that have no owner yet.
  std::vector<Op> PlaceNewShards(const storage::CatalogChange& change);
  void OnCatalog(const storage::CatalogChange& change, int64_t revision);

  const ClusterOptions options_;
  storage::Store& store_;
  std::unique_ptr<EtcdClient> etcd_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<ClusterView> view_;

  // Serializes publishing with the watch's look at its catalog events, so the controller never
  // applies its own change a second time after a newer one (its echo arrives late). Never held
  // while calling into the broker: a broker operation holds its locks while it publishes.
  std::mutex catalog_mu_;
  broker::Broker* broker_ = nullptr;      // guarded by catalog_mu_; set by Attach
  int64_t last_published_revision_ = 0;   // guarded by catalog_mu_
  std::vector<std::pair<storage::CatalogChange, int64_t>> pending_;  // guarded by catalog_mu_
  PublishGuard publish_guard_;                                        // guarded by catalog_mu_

  std::mutex topology_mu_;
  std::function<void()> topology_listener_;  // guarded by topology_mu_
};

}  // namespace riffle::cluster
