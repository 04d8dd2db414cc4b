// Paces one SubscribeToShard subscription the same way for both front ends: an event at once
// (it tells the client the subscription is open), then an event whenever records are there, an
// empty one (a heartbeat) after kHeartbeatMs of silence, and the end after the shard's end, an
// error, or the subscription's lifetime. Between events the transport waits for the shard's
// next append through WaitForRecords(), or for the heartbeat: no thread is parked and no timer
// polls, so thousands of idle subscriptions cost memory only.
//
// Not thread-safe: the transport calls it from one executor at a time. Time comes from the
// injected Clock, so tests move it without sleeping.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "common/clock.h"
#include "common/status.h"
#include "server/broker/broker.h"

namespace riffle::broker {

class SubscriptionPump {
 public:
  static constexpr int64_t kHeartbeatMs = 5'000;
  // Kinesis ends every subscription after 5 minutes; the client subscribes again from its
  // continuation sequence number.
  static constexpr int64_t kKinesisLifetimeMs = 300'000;

  // `lifetime_ms` 0: the subscription lasts until the client leaves or the shard ends.
  SubscriptionPump(Broker& broker, RequestContext ctx, Subscription subscription,
                   const Clock& clock, int64_t lifetime_ms);

  // The next event to send, nullopt when there is nothing to send yet (then wait), or the error
  // that ends the subscription. After it, done() says whether the subscription is over.
  StatusOr<std::optional<SubscriptionEvent>> Next();

  // Counts the silence from now, as if an event had just been sent (a transport that opens
  // with a message of its own).
  void StartSilence() { last_event_ms_ = clock_.NowMillis(); }

  bool done() const { return done_; }
  // The last event carried records: more may be waiting, so call Next() again at once.
  bool more_ready() const { return more_ready_; }
  // How long the transport may wait before calling Next() again (heartbeat or lifetime due).
  int64_t MillisUntilDue() const;
  // Runs `wake` once when the shard has records past the subscription's position (see
  // Broker::NotifyWhenReadable). False, keeping nothing: call Next() now.
  bool WaitForRecords(std::function<void()> wake);

 private:
  Broker& broker_;
  const RequestContext ctx_;
  Subscription subscription_;
  const Clock& clock_;
  const int64_t ends_ms_;  // 0: never
  std::optional<int64_t> last_event_ms_;
  bool done_ = false;
  bool more_ready_ = false;
};

}  // namespace riffle::broker
