#include "server/cluster/membership.h"

#include <spdlog/spdlog.h>

namespace riffle::cluster {
namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The member key's value: what other nodes and `riffle cluster status` need to reach it.
std::string MemberValue(const MembershipOptions& options, int64_t lease, bool draining) {
  return "grpc=" + options.advertise_addr + " kinesis=" + options.kinesis_addr +
         " incarnation=" + std::to_string(lease) + (draining ? " draining=1" : "");
}

}  // namespace

std::string ClusterPrefix(const std::string& cluster_name) {
  return "/riffle/" + cluster_name + "/";
}

Status ValidateNodeId(const std::string& node_id) {
  const bool valid = !node_id.empty() && node_id.size() <= 63 &&
                     node_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") ==
                         std::string::npos;
  if (!valid) {
    return Status(ErrorCode::kInvalidArgument,
                  "--node-id must be 1 to 63 characters of a-z, 0-9 and '-', got '" + node_id +
                      "'");
  }
  return Status();
}

Membership::Membership(EtcdClient& etcd, MembershipOptions options,
                       std::function<void()> on_change)
    : etcd_(etcd),
      options_(std::move(options)),
      prefix_(ClusterPrefix(options_.cluster_name)),
      on_change_(std::move(on_change)) {}

StatusOr<std::unique_ptr<Membership>> Membership::Join(EtcdClient& etcd,
                                                       MembershipOptions options,
                                                       std::function<void()> on_change) {
  RIFFLE_RETURN_IF_ERROR(ValidateNodeId(options.node_id));
  std::unique_ptr<Membership> self(new Membership(etcd, std::move(options), std::move(on_change)));
  const std::string member_key = self->Key("members/" + self->options_.node_id);
  // A predecessor killed without leaving still holds the key until its lease runs out.
  const auto give_up = std::chrono::steady_clock::now() + self->options_.lease_ttl +
                       std::chrono::seconds(1);
  for (;;) {
    Status registered = self->Register();
    if (registered.ok()) {
      break;
    }
    if (registered.code() != ErrorCode::kResourceInUse ||
        std::chrono::steady_clock::now() >= give_up) {
      return registered;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  self->Campaign();
  self->keepalive_ = std::thread([s = self.get()] { s->KeepAliveLoop(); });
  return self;
}

Membership::~Membership() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (keepalive_.joinable()) {
    keepalive_.join();
  }
}

Status Membership::StartDraining() {
  draining_.store(true);
  const int64_t lease = lease_.load();
  return etcd_.Put(Key("members/" + options_.node_id), MemberValue(options_, lease, true), lease)
      .status();
}

void Membership::Leave() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (keepalive_.joinable()) {
    keepalive_.join();
  }
  serve_until_ns_.store(0);
  Status revoked = etcd_.RevokeLease(lease_.load());
  if (!revoked.ok()) {
    spdlog::warn("cluster: could not revoke lease on leaving (it will expire): {}",
                 revoked.ToString());
  }
}

Status Membership::Register() {
  const auto sent = SteadyNowNs();
  RIFFLE_ASSIGN_OR_RETURN(int64_t lease, etcd_.GrantLease(options_.lease_ttl));
  const std::string member_key = Key("members/" + options_.node_id);
  RIFFLE_ASSIGN_OR_RETURN(bool created, etcd_.PutIfModRevision(member_key,
                                                               MemberValue(options_, lease,
                                                                           draining_.load()),
                                                               0,
                                                               lease));
  if (!created) {
    etcd_.RevokeLease(lease).IgnoreError();
    return Status(ErrorCode::kResourceInUse,
                  "node id '" + options_.node_id + "' is already registered in cluster '" +
                      options_.cluster_name + "' by a live node; choose another --node-id");
  }
  lease_.store(lease);
  serve_until_ns_.store(sent +
                        std::chrono::duration_cast<std::chrono::nanoseconds>(
                            options_.lease_ttl - options_.lease_margin)
                            .count());
  spdlog::info("cluster: node {} registered in cluster {} (incarnation {})", options_.node_id,
               options_.cluster_name, lease);
  return Status();
}

void Membership::Campaign() {
  StatusOr<TxnResult> txn = etcd_.Txn(
      {Compare::CreateRevision(Key("controller"), Compare::Result::kEqual, 0)},
      {Op::Put(Key("controller"), options_.node_id, lease_.load()), Op::Get(Key("controller"))},
      {Op::Get(Key("controller"))});
  if (!txn.ok()) {
    spdlog::warn("cluster: controller campaign failed: {}", txn.status().ToString());
    return;
  }
  const std::vector<KeyValue>& holder = txn->ranges.empty() ? std::vector<KeyValue>{}
                                                            : txn->ranges.back();
  const bool mine = !holder.empty() && holder.front().value == options_.node_id &&
                    holder.front().lease == lease_.load();
  const int64_t epoch = mine ? holder.front().create_revision : 0;
  if (controller_epoch_.exchange(epoch) != epoch) {
    if (mine) {
      spdlog::info("cluster: node {} is the controller (epoch {})", options_.node_id, epoch);
    }
    on_change_();
  }
}

void Membership::KeepAliveLoop() {
  const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
                            options_.lease_ttl) / 4;
  std::unique_lock lock(mu_);
  while (!stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    const int64_t sent = SteadyNowNs();
    StatusOr<std::chrono::seconds> ttl = etcd_.KeepAliveOnce(lease_.load());
    if (ttl.ok() && ttl->count() > 0) {
      serve_until_ns_.store(sent + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       options_.lease_ttl - options_.lease_margin)
                                       .count());
      Campaign();  // a no-op while someone holds the key
    } else if (ttl.ok() || ttl.status().code() == ErrorCode::kResourceNotFound) {
      // The lease is gone (a pause, or etcd lost us): everything it held is gone with it.
      spdlog::warn("cluster: lease of node {} expired; registering again", options_.node_id);
      serve_until_ns_.store(0);
      controller_epoch_.store(0);
      on_change_();
      if (Status again = Register(); !again.ok()) {
        spdlog::warn("cluster: cannot register again yet: {}", again.ToString());
      } else {
        Campaign();
        on_change_();
      }
    }
    // Any other error: etcd is unreachable; the deadline runs out by itself.
    lock.lock();
  }
}

bool Membership::Serving() const { return SteadyNowNs() < serve_until_ns_.load(); }

}  // namespace riffle::cluster
