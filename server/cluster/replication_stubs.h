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

namespace riffle::cluster {

class ReplicationStubs {
 public:
  explicit ReplicationStubs(const ClusterView& view) : view_(view) {}

  // nullptr when the node is not a live member.
  v1::Replication::Stub* For(const std::string& node_id);

 private:
  const ClusterView& view_;
  std::map<std::string, std::pair<std::string, std::unique_ptr<v1::Replication::Stub>>> stubs_;
};

}  // namespace riffle::cluster
