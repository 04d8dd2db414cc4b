// Clients of other nodes' internal Replication service, by node id, made on first use from the
// member's advertised address and made again when it changes. Not thread-safe: each user
// keeps its own.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "riffle/cluster/v1/replication.grpc.pb.h"
#include "server/cluster/cluster_view.h"
#include "server/cluster/peer_client.h"

namespace riffle::cluster {

class ReplicationStubs {
 public:
  ReplicationStubs(const ClusterView& view, PeerSecurity security)
      : view_(view), security_(std::move(security)) {}

  // nullptr when the node is not a live member.
  v1::Replication::Stub* For(const std::string& node_id);

 private:
  const ClusterView& view_;
  const PeerSecurity security_;
  std::map<std::string, std::pair<std::string, std::unique_ptr<v1::Replication::Stub>>> stubs_;
};

}  // namespace riffle::cluster
