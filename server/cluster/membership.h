// A node's place in the cluster: its etcd lease, its member key, the lease deadline that fences
// it, and its campaign for the controller key (docs/cluster.md §2-§4).
//
// Fencing by time: the node serves only while now < t_ok + TTL - margin, where t_ok is the send
// time (steady clock) of the last keepalive etcd answered. etcd cannot expire the lease before
// t_ok + TTL, so a node that was paused, cut off or slow stops serving before anyone else may
// take its shards. When a keepalive finds the lease gone, the node registers again under a new
// lease (a new incarnation) and campaigns again.
//
// Thread-safe. One keepalive thread; callbacks (`on_change`) run on it and must not block long.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "server/cluster/etcd_client.h"

namespace riffle::cluster {

struct MembershipOptions {
  std::string cluster_name = "default";
  std::string node_id;         // 1-63 of [a-z0-9-], stable across restarts
  std::string advertise_addr;  // gRPC host:port that other nodes and the CLI use
  std::string kinesis_addr;    // Kinesis host:port, shown by `riffle cluster status`
  std::chrono::seconds lease_ttl{2};
  std::chrono::milliseconds lease_margin{500};
};

// The etcd key prefix of a cluster: every key Riffle writes starts with it.
std::string ClusterPrefix(const std::string& cluster_name);
// Whether `node_id` is a valid node id; the message says why not.
Status ValidateNodeId(const std::string& node_id);

class Membership {
 public:
  // Registers the node. Fails when etcd is unreachable or a live node holds the same id (a
  // crashed predecessor's key is waited out for one lease TTL first).
  static StatusOr<std::unique_ptr<Membership>> Join(EtcdClient& etcd, MembershipOptions options,
                                                    std::function<void()> on_change);
  // Stops the keepalives without revoking: the lease runs out by itself (as after a crash).
  ~Membership();

  // Marks the member key draining: the controller moves this node's shards away.
  Status StartDraining();
  // A clean departure: revokes the lease, so the member key (and the controller key, if held)
  // go at once.
  void Leave();

  // Whether the node may serve now (lease deadline not passed).
  bool Serving() const;
  // The current lease id; changes when the node registers again.
  int64_t incarnation() const { return lease_.load(); }
  // Whether this node holds the controller key, and the controller epoch (the key's
  // create_revision) that guards every controller write.
  bool IsController() const { return controller_epoch_.load() != 0; }
  int64_t controller_epoch() const { return controller_epoch_.load(); }

  const MembershipOptions& options() const { return options_; }
  std::string Key(std::string_view suffix) const { return prefix_ + std::string(suffix); }

 private:
  Membership(EtcdClient& etcd, MembershipOptions options, std::function<void()> on_change);
  Status Register();
  void Campaign();
  void KeepAliveLoop();

  EtcdClient& etcd_;
  const MembershipOptions options_;
  const std::string prefix_;
  const std::function<void()> on_change_;

  std::atomic<int64_t> lease_{0};
  std::atomic<int64_t> controller_epoch_{0};
  // Serving deadline in steady_clock nanoseconds since its epoch; 0: not serving.
  std::atomic<int64_t> serve_until_ns_{0};
  std::atomic<bool> draining_{false};

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread keepalive_;
};

}  // namespace riffle::cluster
