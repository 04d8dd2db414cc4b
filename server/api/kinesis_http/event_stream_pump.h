// SubscribeToShard's answer as AWS event-stream messages, for either HTTP version: the
// transport asks for the next message, writes it, and waits as the pump says.
//
// Not thread-safe: a connection calls it from its own thread only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "server/broker/broker.h"
#include "server/broker/subscription_pump.h"

namespace riffle::kinesis_http {

// A subscription's events as event-stream messages, whichever HTTP version carries them:
// initial-response first, then what broker::SubscriptionPump paces, an exception message on
// error, and nothing after the end.
class EventStreamPump {
 public:
  EventStreamPump(broker::Broker& broker, broker::RequestContext ctx,
                  broker::Subscription subscription, const Clock& clock)
      : pump_(broker, std::move(ctx), std::move(subscription), clock,
              broker::SubscriptionPump::kKinesisLifetimeMs) {}

  // The next message, or nullopt when there is nothing to send yet.
  std::optional<std::string> Next();
  bool done() const { return pump_.done(); }
  bool more_ready() const { return more_ready_; }
  broker::SubscriptionPump& pump() { return pump_; }

 private:
  broker::SubscriptionPump pump_;
  bool started_ = false;
  bool more_ready_ = false;
};

// Authenticates and validates a SubscribeToShard request and opens its pump. The events are
// JSON whatever the request's format, as the SDKs accept.
StatusOr<EventStreamPump> OpenPump(broker::Broker& broker, const Clock& clock,
                                   const StatusOr<broker::RequestContext>& caller,
                                   std::string_view content_type, std::string& body);

}  // namespace riffle::kinesis_http
