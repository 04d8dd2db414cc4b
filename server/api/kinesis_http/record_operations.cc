#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/api/kinesis_http/json.h"
#include "server/api/kinesis_http/operation_handlers.h"
#include "server/api/kinesis_http/operations.h"
#include "server/broker/tokens.h"

namespace riffle::kinesis_http {
namespace {

using broker::Broker;
using broker::RequestContext;

// "Records": [...] of GetRecords and SubscribeToShardEvent.
void WriteRecords(JsonWriter& out, const std::vector<broker::Record>& records) {
  size_t estimate = 256;
  for (const auto& record : records) {
    estimate += 160 + record.data.size() * 4 / 3 + record.partition_key.size();
  }
  out.Reserve(estimate);
  out.Key("Records").BeginArray();
  for (const auto& record : records) {
    out.BeginObject()
        .Key("SequenceNumber")
        .PlainString(record.sequence_number)
        .Key("ApproximateArrivalTimestamp")
        .Timestamp(record.arrival_time_ms)
        .Key("Data")
        .PlainString(broker::Base64Encode(record.data))
        .Member("PartitionKey", record.partition_key);
    if (record.encryption_type) {
      out.Member("EncryptionType", *record.encryption_type);
    }
    out.EndObject();
  }
  out.EndArray();
}

// "ChildShards": [...], left out when empty (only a closed shard's end has children).
void WriteChildShards(JsonWriter& out, const std::vector<broker::ChildShard>& children) {
  if (children.empty()) {
    return;
  }
  out.Key("ChildShards").BeginArray();
  for (const auto& child : children) {
    out.BeginObject().Member("ShardId", child.shard_id).Key("ParentShards").BeginArray();
    for (const auto& parent : child.parent_shards) {
      out.String(parent);
    }
    out.EndArray();
    WriteHashKeyRange(out, child.hash_key_range);
    out.EndObject();
  }
  out.EndArray();
}

StatusOr<broker::PutRecordRequest> ReadPutRecord(JsonObject& in, const Status& decode_error) {
  broker::PutRecordRequest req;
  req.stream = ReadStreamRef(in);
  req.data = in.Blob("Data");
  req.partition_key = in.String("PartitionKey");
  req.explicit_hash_key = in.String("ExplicitHashKey");
  req.sequence_number_for_ordering = in.String("SequenceNumberForOrdering");
  RIFFLE_DECODED(decode_error);
  return req;
}

std::string PutRecordJson(const broker::PutRecordResult& r) {
  JsonWriter out;
  out.BeginObject()
      .Member("ShardId", r.shard_id)
      .Member("SequenceNumber", r.sequence_number)
      .Member("EncryptionType", r.encryption_type)
      .EndObject();
  return out.Take();
}

StatusOr<broker::PutRecordsRequest> ReadPutRecords(JsonObject& in, const Status& decode_error) {
  broker::PutRecordsRequest req;
  req.stream = ReadStreamRef(in);
  if (std::optional<std::vector<JsonObject>> records = in.ObjectList("Records")) {
    req.records.emplace();
    req.records->reserve(records->size());
    for (const JsonObject& record : *records) {
      req.records->push_back(broker::PutRecordsEntry{
          record.Blob("Data"), record.String("PartitionKey"), record.String("ExplicitHashKey")});
    }
  }
  RIFFLE_DECODED(decode_error);
  return req;
}

std::string PutRecordsJson(const broker::PutRecordsResult& r) {
  JsonWriter out;
  out.BeginObject().MemberInt("FailedRecordCount", r.failed_record_count).Key("Records");
  out.BeginArray();
  for (const auto& e : r.records) {
    out.BeginObject();
    if (e.sequence_number) {
      out.Member("SequenceNumber", *e.sequence_number).Member("ShardId", *e.shard_id);
    } else {
      out.Member("ErrorCode", e.error_code.value_or("InternalFailure"))
          .Member("ErrorMessage", e.error_message.value_or(""));
    }
    out.EndObject();
  }
  out.EndArray().Member("EncryptionType", r.encryption_type).EndObject();
  return out.Take();
}

template <typename Request, typename Result>
AsyncHandler WriteHandler(StatusOr<Request> (*read)(JsonObject&, const Status&),
                          void (Broker::*call)(const RequestContext&, const Request&,
                                               std::function<void(StatusOr<Result>)>),
                          std::string (*encode)(const Result&)) {
  return [=](Broker& b, const RequestContext& ctx, JsonObject& in, const Status& decode_error,
             const Executor& executor, Respond respond) {
    StatusOr<Request> req = read(in, decode_error);
    if (!req.ok()) {
      respond(req.status());
      return;
    }
    (b.*call)(
        ctx, *req,
        [executor, encode, respond = std::move(respond)](StatusOr<Result> result) mutable {
          executor([encode, respond = std::move(respond), result = std::move(result)]() mutable {
            if (!result.ok()) {
              respond(result.status());
            } else {
              respond(encode(*result));
            }
          });
        });
  };
}

StatusOr<std::string> GetShardIterator(Broker& b, const RequestContext& ctx, JsonObject& in,
                                       const Status& decode_error) {
  broker::GetShardIteratorRequest req;
  req.stream = ReadStreamRef(in);
  req.shard_id = in.String("ShardId");
  req.shard_iterator_type = in.String("ShardIteratorType");
  req.starting_sequence_number = in.String("StartingSequenceNumber");
  req.timestamp_ms = in.TimestampMillis("Timestamp");
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(std::string iterator, b.GetShardIterator(ctx, req));
  JsonWriter out;
  out.BeginObject().Member("ShardIterator", iterator).EndObject();
  return out.Take();
}

StatusOr<std::string> GetRecords(Broker& b, const RequestContext& ctx, JsonObject& in,
                                 const Status& decode_error) {
  broker::GetRecordsRequest req;
  req.shard_iterator = in.String("ShardIterator");
  req.limit = in.Integer("Limit");
  req.stream_arn = in.String("StreamARN");
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::GetRecordsResult r, b.GetRecords(ctx, req));
  JsonWriter out;
  out.BeginObject();
  WriteRecords(out, r.records);
  if (r.next_shard_iterator) {
    out.Member("NextShardIterator", *r.next_shard_iterator);
  }
  out.MemberInt("MillisBehindLatest", r.millis_behind_latest);
  WriteChildShards(out, r.child_shards);
  out.EndObject();
  return out.Take();
}

}  // namespace

const std::unordered_map<std::string_view, AsyncHandler>& AsyncHandlers() {
  static const auto* handlers = new std::unordered_map<std::string_view, AsyncHandler>{
      {"PutRecord", WriteHandler(ReadPutRecord, &Broker::PutRecordAsync, PutRecordJson)},
      {"PutRecords", WriteHandler(ReadPutRecords, &Broker::PutRecordsAsync, PutRecordsJson)},
  };
  return *handlers;
}

void AddRecordOperations(HandlerMap& handlers) {
  handlers.insert({
      {"GetShardIterator", GetShardIterator},
      {"GetRecords", GetRecords},
  });
}

StatusOr<broker::Subscription> StartSubscription(Broker& broker, const RequestContext& ctx,
                                                 std::string& body) {
  JsonDocument doc;
  RIFFLE_RETURN_IF_ERROR(doc.Parse(body));
  JsonObject in = doc.root();
  RIFFLE_RETURN_IF_ERROR(AuthorizeOperation(ctx, "SubscribeToShard", StreamNamedIn(in)));
  broker::SubscribeRequest req;
  req.consumer_arn = in.String("ConsumerARN");
  req.shard_id = in.String("ShardId");
  if (std::optional<JsonObject> start = in.Object("StartingPosition")) {
    req.starting_position =
        broker::StartingPosition{start->String("Type"), start->String("SequenceNumber"),
                                 start->TimestampMillis("Timestamp")};
  }
  RIFFLE_RETURN_IF_ERROR(doc.error());
  return broker.Subscribe(ctx, req);
}

std::string SubscriptionEventJson(const broker::SubscriptionEvent& event) {
  JsonWriter out;
  out.BeginObject();
  WriteRecords(out, event.records);
  if (event.continuation_sequence_number) {
    out.Member("ContinuationSequenceNumber", *event.continuation_sequence_number);
  }
  out.MemberInt("MillisBehindLatest", event.millis_behind_latest);
  WriteChildShards(out, event.child_shards);
  out.EndObject();
  return out.Take();
}

}  // namespace riffle::kinesis_http
