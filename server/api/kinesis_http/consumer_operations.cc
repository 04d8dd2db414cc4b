#include <string>

#include "server/api/kinesis_http/json.h"
#include "server/api/kinesis_http/operation_handlers.h"

namespace riffle::kinesis_http {
namespace {

using broker::Broker;
using broker::RequestContext;

void WriteConsumer(JsonWriter& out, const broker::ConsumerDescription& c, bool with_stream) {
  out.BeginObject()
      .Member("ConsumerName", c.consumer_name)
      .Member("ConsumerARN", c.consumer_arn)
      .Member("ConsumerStatus", c.consumer_status)
      .Key("ConsumerCreationTimestamp")
      .Timestamp(c.creation_time_ms);
  if (with_stream) {
    out.Member("StreamARN", c.stream_arn);
  }
  out.EndObject();
}

broker::ConsumerRef ReadConsumerRef(JsonObject& in) {
  return broker::ConsumerRef{in.String("StreamARN"), in.String("ConsumerName"),
                             in.String("ConsumerARN")};
}

StatusOr<std::string> RegisterStreamConsumer(Broker& b, const RequestContext& ctx, JsonObject& in,
                                             const Status& decode_error) {
  broker::RegisterConsumerRequest req{in.String("StreamARN"), in.String("ConsumerName")};
  in.StringMap("Tags");
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::ConsumerDescription c, b.RegisterStreamConsumer(ctx, req));
  JsonWriter out;
  out.BeginObject().Key("Consumer");
  WriteConsumer(out, c, /*with_stream=*/false);
  out.EndObject();
  return out.Take();
}

StatusOr<std::string> DeregisterStreamConsumer(Broker& b, const RequestContext& ctx, JsonObject& in,
                                               const Status& decode_error) {
  broker::ConsumerRef req = ReadConsumerRef(in);
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.DeregisterStreamConsumer(ctx, req));
  return Empty();
}

StatusOr<std::string> DescribeStreamConsumer(Broker& b, const RequestContext& ctx, JsonObject& in,
                                             const Status& decode_error) {
  broker::ConsumerRef req = ReadConsumerRef(in);
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::ConsumerDescription c, b.DescribeStreamConsumer(ctx, req));
  JsonWriter out;
  out.BeginObject().Key("ConsumerDescription");
  WriteConsumer(out, c, /*with_stream=*/true);
  out.EndObject();
  return out.Take();
}

StatusOr<std::string> ListStreamConsumers(Broker& b, const RequestContext& ctx, JsonObject& in,
                                          const Status& decode_error) {
  broker::ListConsumersRequest req{in.String("StreamARN"), in.String("NextToken"),
                                   in.Integer("MaxResults"),
                                   in.TimestampMillis("StreamCreationTimestamp")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::ListConsumersResult r, b.ListStreamConsumers(ctx, req));
  JsonWriter out;
  out.BeginObject().Key("Consumers").BeginArray();
  for (const auto& c : r.consumers) {
    WriteConsumer(out, c, /*with_stream=*/false);
  }
  out.EndArray();
  if (r.next_token) {
    out.Member("NextToken", *r.next_token);
  }
  out.EndObject();
  return out.Take();
}

}  // namespace

void AddConsumerOperations(HandlerMap& handlers) {
  handlers.insert({
      {"RegisterStreamConsumer", RegisterStreamConsumer},
      {"DeregisterStreamConsumer", DeregisterStreamConsumer},
      {"DescribeStreamConsumer", DescribeStreamConsumer},
      {"ListStreamConsumers", ListStreamConsumers},
  });
}

}  // namespace riffle::kinesis_http
