#include "server/api/kinesis_http/event_stream_pump.h"

#include "server/api/kinesis_http/event_stream.h"
#include "server/api/kinesis_http/operations.h"

namespace riffle::kinesis_http {

std::optional<std::string> EventStreamPump::Next() {
  if (!started_) {
    started_ = true;
    more_ready_ = true;  // the backlog, if any, follows at once
    pump_.StartSilence();
    return EncodeEventMessage("initial-response", "application/json", "{}");
  }
  StatusOr<std::optional<broker::SubscriptionEvent>> event = pump_.Next();
  more_ready_ = pump_.more_ready();
  if (!event.ok()) {
    return EncodeExceptionMessage(KinesisName(event.status().code()), event.status().message());
  }
  if (!event->has_value()) {
    return std::nullopt;
  }
  return EncodeEventMessage("SubscribeToShardEvent", "application/x-amz-json-1.1",
                            SubscriptionEventJson(**event));
}

StatusOr<EventStreamPump> OpenPump(broker::Broker& broker, const Clock& clock,
                                   const StatusOr<broker::RequestContext>& caller,
                                   std::string_view content_type, std::string& body) {
  RIFFLE_RETURN_IF_ERROR(BodyAsJson(content_type, body));
  RIFFLE_RETURN_IF_ERROR(caller.status());
  broker::RequestContext ctx = *caller;
  RIFFLE_ASSIGN_OR_RETURN(broker::Subscription subscription, StartSubscription(broker, ctx, body));
  return EventStreamPump(broker, std::move(ctx), std::move(subscription), clock);
}

}  // namespace riffle::kinesis_http
