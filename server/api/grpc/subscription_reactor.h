// SubscribeToShard on gRPC's callback API: each subscription is a write reactor whose steps run
// on one SubscriptionRunner thread, driven by broker::SubscriptionPump. An idle subscription
// holds no thread: it waits for an append to its own shard (the pump's wake-up) or its next
// heartbeat (a timer), so ten thousand of them cost memory only.
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <grpcpp/support/server_callback.h>

#include "common/clock.h"
#include "riffle/v1/riffle.pb.h"
#include "server/broker/broker.h"

namespace riffle::grpc_api {

class SubscriptionRunner {
 public:
  // Borrows `stopping`: once true, every subscription ends with UNAVAILABLE at its next step.
  SubscriptionRunner(const Clock& clock, const std::atomic<bool>& stopping);
  // Waits until every subscription has finished (gRPC calls OnDone for each before its
  // server's Wait() returns).
  ~SubscriptionRunner();

  // A reactor for one validated subscription; gRPC owns it from here on.
  grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* Start(
      grpc::CallbackServerContext* context, broker::Broker& broker, broker::RequestContext ctx,
      broker::Subscription subscription);

  // Steps every open subscription now, so they notice `stopping`.
  void WakeAll();

  boost::asio::io_context& io() { return io_; }
  const Clock& clock() const { return clock_; }
  bool stopping() const { return stopping_.load(); }

  // Open subscriptions, touched only on the runner's thread.
  class Reactor;
  std::set<Reactor*>& open() { return open_; }

 private:
  const Clock& clock_;
  const std::atomic<bool>& stopping_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::set<Reactor*> open_;
  std::thread thread_;
};

}  // namespace riffle::grpc_api
