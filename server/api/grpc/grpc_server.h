// The gRPC front end of riffled: serves riffle.v1.Riffle over insecure HTTP/2 and hands every call
// to the broker.
//
// Threading: gRPC's callback API runs calls on its own threads, which never wait for an fsync
// (writes complete from the commit pipeline); the broker is thread-safe.
// Shutdown() may be called from any thread, more than once; the destructor calls it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "server/api/call_log/call_log.h"
#include "server/api/grpc/calls_in_flight.h"
#include "server/auth/credentials.h"
#include "server/auth/tls_files.h"
#include "server/broker/broker.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace riffle::grpc_api {

// Serves the Riffle gRPC API on host:port (port 0 picks a free one). Borrows broker, which must
// outlive it.
class GrpcServer {
 public:
  // Fails with ServiceUnavailable when host:port cannot be bound. `context` gives the region and
  // account that the broker prints in ARNs and checks them against. An idle SubscribeToShard
  // wakes on an append to its shard, or for its heartbeat (paced by `clock`; null: the system
  // clock, which must then outlive nothing). `internal_services` (a cluster's node-to-node
  // services) are served on the same port; they must outlive the server. With `credentials`
  // (which must outlive the server), riffle.v1.Riffle calls need a bearer token of their keys.
  // With `tls`, the port speaks TLS only (mutual with a client CA); gRPC reads the files again
  // every few seconds, so a renewed certificate is used without a restart. Every call of the
  // port is logged by `call_log`'s rules (call_log.h).
  static StatusOr<std::unique_ptr<GrpcServer>> Start(
      broker::Broker& broker, const std::string& host, int port,
      broker::RequestContext context = {}, const Clock* clock = nullptr,
      const std::vector<grpc::Service*>& internal_services = {},
      const auth::Credentials* credentials = nullptr, const auth::TlsFiles& tls = {},
      call_log::CallLogOptions call_log = {});

  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;
  ~GrpcServer();

  // The port actually bound.
  int port() const { return port_; }
  // Calls started and not yet finished (open subscriptions included), for the metrics.
  int calls_in_flight() { return calls_in_flight_.count(); }

  // Waits for the calls in flight, then stops accepting calls and closes every connection;
  // calls still running after 5 s are cancelled. Open SubscribeToShard calls end at once with UNAVAILABLE. Idempotent.
  void Shutdown();

 private:
  GrpcServer() = default;

  // Set when Shutdown() starts, so that subscriptions end instead of waiting out the grace period.
  // Declared before service_, which reads it, and service_ before server_, which calls into it,
  // so that each is destroyed after its users.
  std::atomic<bool> stopping_{false};
  CallsInFlight calls_in_flight_;  // outlives server_, whose calls it counts
  std::unique_ptr<call_log::CallLog> call_log_;  // outlives server_, whose calls it logs
  std::unique_ptr<grpc::Service> service_;
  std::function<void()> wake_subscriptions_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_
};

}  // namespace riffle::grpc_api
