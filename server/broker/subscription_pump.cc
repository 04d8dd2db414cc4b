#include "server/broker/subscription_pump.h"

#include <algorithm>

namespace riffle::broker {

SubscriptionPump::SubscriptionPump(Broker& broker, RequestContext ctx, Subscription subscription,
                                   const Clock& clock, int64_t lifetime_ms)
    : broker_(broker),
      ctx_(std::move(ctx)),
      subscription_(std::move(subscription)),
      clock_(clock),
      ends_ms_(lifetime_ms > 0 ? clock.NowMillis() + lifetime_ms : 0) {}

StatusOr<std::optional<SubscriptionEvent>> SubscriptionPump::Next() {
  more_ready_ = false;
  if (done_) {
    return std::optional<SubscriptionEvent>();
  }
  const int64_t now = clock_.NowMillis();
  if (ends_ms_ != 0 && now >= ends_ms_) {
    done_ = true;
    return std::optional<SubscriptionEvent>();
  }
  StatusOr<SubscriptionEvent> event = broker_.NextEvent(ctx_, subscription_);
  if (!event.ok()) {
    done_ = true;
    return event.status();
  }
  const bool heartbeat_due = !last_event_ms_ || now - *last_event_ms_ >= kHeartbeatMs;
  if (event->records.empty() && !event->shard_ended && !heartbeat_due) {
    return std::optional<SubscriptionEvent>();
  }
  last_event_ms_ = now;
  more_ready_ = !event->records.empty();
  done_ = event->shard_ended;
  return std::optional<SubscriptionEvent>(std::move(event).value());
}

int64_t SubscriptionPump::MillisUntilDue() const {
  const int64_t now = clock_.NowMillis();
  int64_t due = last_event_ms_ ? *last_event_ms_ + kHeartbeatMs : now;
  if (ends_ms_ != 0) {
    due = std::min(due, ends_ms_);
  }
  return std::max<int64_t>(0, due - now);
}

bool SubscriptionPump::WaitForRecords(std::function<void()> wake) {
  return broker_.NotifyWhenReadable(subscription_, std::move(wake));
}

}  // namespace riffle::broker
