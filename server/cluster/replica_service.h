// Serves the internal riffle.cluster.v1.Replication service (docs/cluster.md §5.3) on this
// node's gRPC port: other nodes' leaders append to this node's replicas, the controller fences
// them. The calls run on one worker thread of the service's own, since each syncs to disk
// before it answers and gRPC's callback threads must not block; Appends that queued up while
// the worker was busy are applied with one fsync.
#pragma once

#include <functional>
#include <memory>

#include <grpcpp/impl/service_type.h>
#include <grpcpp/server_context.h>

#include "server/cluster/follower.h"

namespace riffle::cluster {

// Whether a call from another node may go on: OK, or the status it is refused with (with a
// credentials file, a caller must present the cluster key: docs/security.md).
using CallGate = std::function<grpc::Status(grpc::ServerContextBase&)>;

// Borrows `follower`, which must outlive the service (and the server it is registered with).
// Every call passes `gate` first, unless it is null.
std::unique_ptr<grpc::Service> NewReplicaService(Follower& follower, CallGate gate = {});

}  // namespace riffle::cluster
