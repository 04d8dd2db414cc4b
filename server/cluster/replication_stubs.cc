#include "server/cluster/replication_stubs.h"

#include <grpcpp/channel.h>

namespace riffle::cluster {

v1::Replication::Stub* ReplicationStubs::For(const std::string& node_id) {
  std::optional<Member> member = view_.FindMember(node_id);
  if (!member || member->grpc_addr.empty()) {
    return nullptr;
  }
  auto& [address, stub] = stubs_[node_id];
  if (!stub || address != member->grpc_addr) {
    address = member->grpc_addr;
    stub = v1::Replication::NewStub(NewPeerChannel(member->grpc_addr, security_));
  }
  return stub.get();
}

}  // namespace riffle::cluster
