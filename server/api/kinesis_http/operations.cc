#include "server/api/kinesis_http/operations.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "server/api/kinesis_http/cbor.h"
#include "server/api/kinesis_http/error_map.h"
#include "server/api/kinesis_http/json.h"
#include "server/broker/tokens.h"

namespace riffle::kinesis_http {
namespace {

using broker::Broker;
using broker::RequestContext;

constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";

broker::StreamRef ReadStreamRef(const JsonObject& in) {
  return broker::StreamRef{in.String("StreamName"), in.String("StreamARN")};
}

void WriteHashKeyRange(JsonWriter& out, const broker::HashKeyRange& range) {
  out.Key("HashKeyRange")
      .BeginObject()
      .Member("StartingHashKey", range.starting_hash_key)
      .Member("EndingHashKey", range.ending_hash_key)
      .EndObject();
}

void WriteShard(JsonWriter& out, const broker::ShardDescription& shard) {
  out.BeginObject().Member("ShardId", shard.shard_id);
  if (shard.parent_shard_id) {
    out.Member("ParentShardId", *shard.parent_shard_id);
  }
  if (shard.adjacent_parent_shard_id) {
    out.Member("AdjacentParentShardId", *shard.adjacent_parent_shard_id);
  }
  WriteHashKeyRange(out, shard.hash_key_range);
  out.Key("SequenceNumberRange")
      .BeginObject()
      .Member("StartingSequenceNumber", shard.starting_sequence_number);
  if (shard.ending_sequence_number) {
    out.Member("EndingSequenceNumber", *shard.ending_sequence_number);
  }
  out.EndObject().EndObject();
}

void WriteShardList(JsonWriter& out, const std::vector<broker::ShardDescription>& shards) {
  out.Key("Shards").BeginArray();
  for (const auto& shard : shards) {
    WriteShard(out, shard);
  }
  out.EndArray();
}

void WriteStreamMode(JsonWriter& out, const std::string& mode) {
  out.Key("StreamModeDetails").BeginObject().Member("StreamMode", mode).EndObject();
}

void WriteEnhancedMonitoring(JsonWriter& out, const std::vector<std::string>& metrics) {
  out.Key("EnhancedMonitoring").BeginArray().BeginObject().Key("ShardLevelMetrics").BeginArray();
  for (const std::string& metric : metrics) {
    out.String(metric);
  }
  out.EndArray().EndObject().EndArray();
}

void WriteEncryption(JsonWriter& out, const broker::StreamDescription& d) {
  out.Member("EncryptionType", d.encryption_type);
  if (d.key_id) {
    out.Member("KeyId", *d.key_id);
  }
}

std::string Empty() { return std::string(); }

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

// One operation: decode, call, encode. Returns the body or the broker's error.
using Handler = std::function<StatusOr<std::string>(Broker&, const RequestContext&, JsonObject&,
                                                    const Status& decode_error)>;

// Calls the broker only when decoding met no type error.
#define RIFFLE_DECODED(decode_error)  \
  do {                                \
    if (!(decode_error).ok()) {       \
      return (decode_error);          \
    }                                 \
  } while (false)

StatusOr<std::string> CreateStream(Broker& b, const RequestContext& ctx, JsonObject& in,
                                   const Status& decode_error) {
  broker::CreateStreamRequest req;
  req.stream_name = in.String("StreamName");
  req.shard_count = in.Integer("ShardCount");
  if (std::optional<JsonObject> mode = in.Object("StreamModeDetails")) {
    req.stream_mode = mode->String("StreamMode");
    if (!req.stream_mode && decode_error.ok()) {
      return Status(ErrorCode::kValidation,
                    "1 validation error detected: Value null at 'streamModeDetails.streamMode' "
                    "failed to satisfy constraint: Member must not be null");
    }
  }
  req.tags = in.StringMap("Tags").value_or(std::map<std::string, std::string>{});
  req.max_record_size_kib = in.Integer("MaxRecordSizeInKiB");
  in.Integer("WarmThroughputMiBps");
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.CreateStream(ctx, req));
  return Empty();
}

StatusOr<std::string> DeleteStream(Broker& b, const RequestContext& ctx, JsonObject& in,
                                   const Status& decode_error) {
  broker::DeleteStreamRequest req;
  req.stream = ReadStreamRef(in);
  req.enforce_consumer_deletion = in.Bool("EnforceConsumerDeletion").value_or(false);
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.DeleteStream(ctx, req));
  return Empty();
}

StatusOr<std::string> DescribeStream(Broker& b, const RequestContext& ctx, JsonObject& in,
                                     const Status& decode_error) {
  broker::DescribeStreamRequest req;
  req.stream = ReadStreamRef(in);
  req.limit = in.Integer("Limit");
  req.exclusive_start_shard_id = in.String("ExclusiveStartShardId");
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::StreamDescription d, b.DescribeStream(ctx, req));
  JsonWriter out;
  out.BeginObject().Key("StreamDescription").BeginObject();
  out.Member("StreamName", d.stream_name).Member("StreamARN", d.stream_arn);
  out.Member("StreamStatus", d.stream_status);
  WriteStreamMode(out, d.stream_mode);
  WriteShardList(out, d.shards);
  out.MemberBool("HasMoreShards", d.has_more_shards);
  out.MemberInt("RetentionPeriodHours", d.retention_period_hours);
  out.Key("StreamCreationTimestamp").Timestamp(d.creation_time_ms);
  WriteEnhancedMonitoring(out, d.shard_level_metrics);
  WriteEncryption(out, d);
  out.EndObject().EndObject();
  return out.Take();
}

StatusOr<std::string> DescribeStreamSummary(Broker& b, const RequestContext& ctx, JsonObject& in,
                                            const Status& decode_error) {
  broker::StreamRef ref = ReadStreamRef(in);
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::StreamDescription d, b.DescribeStreamSummary(ctx, ref));
  JsonWriter out;
  out.BeginObject().Key("StreamDescriptionSummary").BeginObject();
  out.Member("StreamName", d.stream_name).Member("StreamARN", d.stream_arn);
  out.Member("StreamStatus", d.stream_status);
  WriteStreamMode(out, d.stream_mode);
  out.MemberInt("RetentionPeriodHours", d.retention_period_hours);
  out.Key("StreamCreationTimestamp").Timestamp(d.creation_time_ms);
  WriteEnhancedMonitoring(out, d.shard_level_metrics);
  WriteEncryption(out, d);
  out.MemberInt("OpenShardCount", d.open_shard_count);
  out.MemberInt("ConsumerCount", d.consumer_count);
  out.MemberInt("MaxRecordSizeInKiB", d.max_record_size_kib);
  out.EndObject().EndObject();
  return out.Take();
}

StatusOr<std::string> ListStreams(Broker& b, const RequestContext& ctx, JsonObject& in,
                                  const Status& decode_error) {
  broker::ListStreamsRequest req;
  req.limit = in.Integer("Limit");
  req.exclusive_start_stream_name = in.String("ExclusiveStartStreamName");
  req.next_token = in.String("NextToken");
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::ListStreamsResult r, b.ListStreams(ctx, req));
  JsonWriter out;
  out.BeginObject().Key("StreamNames").BeginArray();
  for (const auto& s : r.streams) {
    out.String(s.stream_name);
  }
  out.EndArray().MemberBool("HasMoreStreams", r.has_more_streams);
  if (r.next_token) {
    out.Member("NextToken", *r.next_token);
  }
  out.Key("StreamSummaries").BeginArray();
  for (const auto& s : r.streams) {
    out.BeginObject().Member("StreamName", s.stream_name).Member("StreamARN", s.stream_arn);
    out.Member("StreamStatus", s.stream_status);
    WriteStreamMode(out, s.stream_mode);
    out.Key("StreamCreationTimestamp").Timestamp(s.creation_time_ms).EndObject();
  }
  out.EndArray().EndObject();
  return out.Take();
}

StatusOr<std::string> ListShards(Broker& b, const RequestContext& ctx, JsonObject& in,
                                 const Status& decode_error) {
  broker::ListShardsRequest req;
  req.stream = ReadStreamRef(in);
  req.next_token = in.String("NextToken");
  req.exclusive_start_shard_id = in.String("ExclusiveStartShardId");
  req.max_results = in.Integer("MaxResults");
  req.stream_creation_timestamp_ms = in.TimestampMillis("StreamCreationTimestamp");
  if (std::optional<JsonObject> filter = in.Object("ShardFilter")) {
    req.shard_filter = broker::ShardFilter{filter->String("Type"), filter->String("ShardId"),
                                           filter->TimestampMillis("Timestamp")};
  }
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::ListShardsResult r, b.ListShards(ctx, req));
  JsonWriter out;
  out.BeginObject();
  WriteShardList(out, r.shards);
  if (r.next_token) {
    out.Member("NextToken", *r.next_token);
  }
  out.EndObject();
  return out.Take();
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

// The writes complete from the commit pipeline: decoding happens here, on the connection's
// thread; the result is handed back to that thread (`executor`) before it is encoded, so the
// committer never spends time on JSON.
using Respond = std::function<void(StatusOr<std::string>)>;
using AsyncHandler = std::function<void(Broker&, const RequestContext&, JsonObject&,
                                        const Status& decode_error, const Executor&, Respond)>;

template <typename Request, typename Result>
AsyncHandler WriteHandler(
    StatusOr<Request> (*read)(JsonObject&, const Status&),
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
    (b.*call)(ctx, *req,
              [executor, encode, respond = std::move(respond)](StatusOr<Result> result) mutable {
                executor([encode, respond = std::move(respond),
                          result = std::move(result)]() mutable {
                  if (!result.ok()) {
                    respond(result.status());
                  } else {
                    respond(encode(*result));
                  }
                });
              });
  };
}

const std::unordered_map<std::string_view, AsyncHandler>& AsyncHandlers() {
  static const auto* handlers = new std::unordered_map<std::string_view, AsyncHandler>{
      {"PutRecord", WriteHandler(ReadPutRecord, &Broker::PutRecordAsync, PutRecordJson)},
      {"PutRecords", WriteHandler(ReadPutRecords, &Broker::PutRecordsAsync, PutRecordsJson)},
  };
  return *handlers;
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

broker::RetentionRequest ReadRetention(JsonObject& in) {
  return broker::RetentionRequest{ReadStreamRef(in), in.Integer("RetentionPeriodHours")};
}

StatusOr<std::string> IncreaseRetention(Broker& b, const RequestContext& ctx, JsonObject& in,
                                        const Status& decode_error) {
  broker::RetentionRequest req = ReadRetention(in);
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.IncreaseStreamRetentionPeriod(ctx, req));
  return Empty();
}

StatusOr<std::string> DecreaseRetention(Broker& b, const RequestContext& ctx, JsonObject& in,
                                        const Status& decode_error) {
  broker::RetentionRequest req = ReadRetention(in);
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.DecreaseStreamRetentionPeriod(ctx, req));
  return Empty();
}

// The *Resource tag operations name the stream by ResourceARN.
broker::StreamRef ReadResourceRef(JsonObject& in) {
  return broker::StreamRef{std::nullopt, in.String("ResourceARN")};
}

Status RequireResourceArn(const broker::StreamRef& ref) {
  if (!ref.arn) {
    return Status(ErrorCode::kValidation,
                  "1 validation error detected: Value null at 'resourceARN' failed to satisfy "
                  "constraint: Member must not be null");
  }
  return Status();
}

StatusOr<std::string> AddTags(Broker& b, const RequestContext& ctx, JsonObject& in,
                              const Status& decode_error, broker::StreamRef ref) {
  broker::AddTagsRequest req{std::move(ref), in.StringMap("Tags")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.AddTagsToStream(ctx, req));
  return Empty();
}

StatusOr<std::string> RemoveTags(Broker& b, const RequestContext& ctx, JsonObject& in,
                                 const Status& decode_error, broker::StreamRef ref) {
  broker::RemoveTagsRequest req{std::move(ref), in.StringList("TagKeys")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.RemoveTagsFromStream(ctx, req));
  return Empty();
}

void WriteTags(JsonWriter& out, const broker::ListTagsResult& r) {
  out.Key("Tags").BeginArray();
  for (const auto& [key, value] : r.tags) {
    out.BeginObject().Member("Key", key).Member("Value", value).EndObject();
  }
  out.EndArray();
}

StatusOr<std::string> ListTagsForStream(Broker& b, const RequestContext& ctx, JsonObject& in,
                                        const Status& decode_error) {
  broker::ListTagsRequest req{ReadStreamRef(in), in.String("ExclusiveStartTagKey"),
                              in.Integer("Limit")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::ListTagsResult r, b.ListTagsForStream(ctx, req));
  JsonWriter out;
  out.BeginObject();
  WriteTags(out, r);
  out.MemberBool("HasMoreTags", r.has_more_tags).EndObject();
  return out.Take();
}

StatusOr<std::string> ListTagsForResource(Broker& b, const RequestContext& ctx, JsonObject& in,
                                          const Status& decode_error) {
  broker::ListTagsRequest req{ReadResourceRef(in), std::nullopt, std::nullopt};
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(RequireResourceArn(req.stream));
  RIFFLE_ASSIGN_OR_RETURN(broker::ListTagsResult r, b.ListTagsForStream(ctx, req));
  JsonWriter out;
  out.BeginObject();
  WriteTags(out, r);
  out.EndObject();
  return out.Take();
}

StatusOr<std::string> ChangeMonitoring(Broker& b, const RequestContext& ctx, JsonObject& in,
                                       const Status& decode_error, bool enable) {
  broker::EnhancedMonitoringRequest req{ReadStreamRef(in), in.StringList("ShardLevelMetrics")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::EnhancedMonitoringResult r,
                          enable ? b.EnableEnhancedMonitoring(ctx, req)
                                 : b.DisableEnhancedMonitoring(ctx, req));
  JsonWriter out;
  out.BeginObject().Member("StreamName", r.stream_name).Member("StreamARN", r.stream_arn);
  out.Key("CurrentShardLevelMetrics").BeginArray();
  for (const auto& m : r.current_shard_level_metrics) {
    out.String(m);
  }
  out.EndArray().Key("DesiredShardLevelMetrics").BeginArray();
  for (const auto& m : r.desired_shard_level_metrics) {
    out.String(m);
  }
  out.EndArray().EndObject();
  return out.Take();
}

StatusOr<std::string> ChangeEncryption(Broker& b, const RequestContext& ctx, JsonObject& in,
                                       const Status& decode_error, bool start) {
  broker::EncryptionRequest req{ReadStreamRef(in), in.String("EncryptionType"),
                                in.String("KeyId")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(start ? b.StartStreamEncryption(ctx, req)
                               : b.StopStreamEncryption(ctx, req));
  return Empty();
}

StatusOr<std::string> UpdateStreamMode(Broker& b, const RequestContext& ctx, JsonObject& in,
                                       const Status& decode_error) {
  broker::UpdateStreamModeRequest req;
  req.stream_arn = in.String("StreamARN");
  if (std::optional<JsonObject> mode = in.Object("StreamModeDetails")) {
    req.stream_mode = mode->String("StreamMode");
  }
  in.Integer("WarmThroughputMiBps");
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.UpdateStreamMode(ctx, req));
  return Empty();
}

StatusOr<std::string> SplitShard(Broker& b, const RequestContext& ctx, JsonObject& in,
                                 const Status& decode_error) {
  broker::SplitShardRequest req{ReadStreamRef(in), in.String("ShardToSplit"),
                                in.String("NewStartingHashKey")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.SplitShard(ctx, req));
  return Empty();
}

StatusOr<std::string> MergeShards(Broker& b, const RequestContext& ctx, JsonObject& in,
                                  const Status& decode_error) {
  broker::MergeShardsRequest req{ReadStreamRef(in), in.String("ShardToMerge"),
                                 in.String("AdjacentShardToMerge")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.MergeShards(ctx, req));
  return Empty();
}

StatusOr<std::string> UpdateShardCount(Broker& b, const RequestContext& ctx, JsonObject& in,
                                       const Status& decode_error) {
  broker::UpdateShardCountRequest req{ReadStreamRef(in), in.Integer("TargetShardCount"),
                                      in.String("ScalingType")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::UpdateShardCountResult r, b.UpdateShardCount(ctx, req));
  JsonWriter out;
  out.BeginObject()
      .Member("StreamName", r.stream_name)
      .MemberInt("CurrentShardCount", r.current_shard_count)
      .MemberInt("TargetShardCount", r.target_shard_count)
      .Member("StreamARN", r.stream_arn)
      .EndObject();
  return out.Take();
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

StatusOr<std::string> DeregisterStreamConsumer(Broker& b, const RequestContext& ctx,
                                               JsonObject& in, const Status& decode_error) {
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

StatusOr<std::string> UpdateMaxRecordSize(Broker& b, const RequestContext& ctx, JsonObject& in,
                                          const Status& decode_error) {
  broker::UpdateMaxRecordSizeRequest req{in.String("StreamARN"), in.Integer("MaxRecordSizeInKiB")};
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.UpdateMaxRecordSize(ctx, req));
  return Empty();
}

StatusOr<std::string> DescribeLimits(Broker& b, const RequestContext& ctx, JsonObject&,
                                     const Status& decode_error) {
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::DescribeLimitsResult r, b.DescribeLimits(ctx));
  JsonWriter out;
  out.BeginObject()
      .MemberInt("ShardLimit", r.shard_limit)
      .MemberInt("OpenShardCount", r.open_shard_count)
      .MemberInt("OnDemandStreamCount", r.on_demand_stream_count)
      .MemberInt("OnDemandStreamCountLimit", r.on_demand_stream_count_limit)
      .EndObject();
  return out.Take();
}

StatusOr<std::string> DescribeAccountSettings(Broker&, const RequestContext&, JsonObject&,
                                              const Status& decode_error) {
  RIFFLE_DECODED(decode_error);
  return std::string(R"({"MinimumThroughputBillingCommitment":{"Status":"DISABLED"}})");
}

const std::unordered_map<std::string_view, Handler>& Handlers() {
  using namespace std::placeholders;
  static const auto* handlers = new std::unordered_map<std::string_view, Handler>{
      {"CreateStream", CreateStream},
      {"DeleteStream", DeleteStream},
      {"DescribeStream", DescribeStream},
      {"DescribeStreamSummary", DescribeStreamSummary},
      {"ListStreams", ListStreams},
      {"ListShards", ListShards},
      {"GetShardIterator", GetShardIterator},
      {"GetRecords", GetRecords},
      {"IncreaseStreamRetentionPeriod", IncreaseRetention},
      {"DecreaseStreamRetentionPeriod", DecreaseRetention},
      {"AddTagsToStream",
       [](Broker& b, const RequestContext& c, JsonObject& in, const Status& e) {
         return AddTags(b, c, in, e, ReadStreamRef(in));
       }},
      {"RemoveTagsFromStream",
       [](Broker& b, const RequestContext& c, JsonObject& in, const Status& e) {
         return RemoveTags(b, c, in, e, ReadStreamRef(in));
       }},
      {"ListTagsForStream", ListTagsForStream},
      {"TagResource",
       [](Broker& b, const RequestContext& c, JsonObject& in,
          const Status& e) -> StatusOr<std::string> {
         broker::StreamRef ref = ReadResourceRef(in);
         RIFFLE_RETURN_IF_ERROR(RequireResourceArn(ref));
         return AddTags(b, c, in, e, std::move(ref));
       }},
      {"UntagResource",
       [](Broker& b, const RequestContext& c, JsonObject& in,
          const Status& e) -> StatusOr<std::string> {
         broker::StreamRef ref = ReadResourceRef(in);
         RIFFLE_RETURN_IF_ERROR(RequireResourceArn(ref));
         return RemoveTags(b, c, in, e, std::move(ref));
       }},
      {"ListTagsForResource", ListTagsForResource},
      {"EnableEnhancedMonitoring", std::bind(ChangeMonitoring, _1, _2, _3, _4, true)},
      {"DisableEnhancedMonitoring", std::bind(ChangeMonitoring, _1, _2, _3, _4, false)},
      {"StartStreamEncryption", std::bind(ChangeEncryption, _1, _2, _3, _4, true)},
      {"StopStreamEncryption", std::bind(ChangeEncryption, _1, _2, _3, _4, false)},
      {"UpdateStreamMode", UpdateStreamMode},
      {"UpdateMaxRecordSize", UpdateMaxRecordSize},
      {"DescribeLimits", DescribeLimits},
      {"SplitShard", SplitShard},
      {"MergeShards", MergeShards},
      {"UpdateShardCount", UpdateShardCount},
      {"RegisterStreamConsumer", RegisterStreamConsumer},
      {"DeregisterStreamConsumer", DeregisterStreamConsumer},
      {"DescribeStreamConsumer", DescribeStreamConsumer},
      {"ListStreamConsumers", ListStreamConsumers},
      {"DescribeAccountSettings", DescribeAccountSettings},
  };
  return *handlers;
}

// Kinesis operations Riffle does not serve yet: named so the error says so, instead of
// calling them unknown.
bool IsKnownButUnsupported(std::string_view op) {
  static constexpr std::string_view kOps[] = {
      "UpdateStreamWarmThroughput", "UpdateAccountSettings", "GetResourcePolicy",
      "PutResourcePolicy",   "DeleteResourcePolicy"};
  for (std::string_view known : kOps) {
    if (op == known) {
      return true;
    }
  }
  return false;
}

}  // namespace

StatusOr<broker::Subscription> StartSubscription(Broker& broker, const RequestContext& ctx,
                                                 std::string& body) {
  JsonDocument doc;
  RIFFLE_RETURN_IF_ERROR(doc.Parse(body));
  JsonObject in = doc.root();
  broker::SubscribeRequest req;
  req.consumer_arn = in.String("ConsumerARN");
  req.shard_id = in.String("ShardId");
  if (std::optional<JsonObject> start = in.Object("StartingPosition")) {
    req.starting_position = broker::StartingPosition{
        start->String("Type"), start->String("SequenceNumber"), start->TimestampMillis("Timestamp")};
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

Reply ErrorReply(const Status& status, std::string_view content_type) {
  Reply reply;
  reply.http_status = HttpStatusFor(status.code());
  reply.error_type = std::string(KinesisName(status.code()));
  JsonWriter out;
  // AWS's deserializer capitalises the member of the errors it raises itself; every other
  // error carries "message". Clients read either.
  const bool from_deserializer = status.code() == ErrorCode::kSerialization;
  out.BeginObject()
      .Member("__type", reply.error_type)
      .Member(from_deserializer ? "Message" : "message", status.message())
      .EndObject();
  reply.body = out.Take();
  if (IsCbor(content_type)) {
    reply.body = JsonToCbor(reply.body);
    reply.content_type = kCborContentType;
  }
  return reply;
}

Status ReadCredentials(std::string_view authorization, RequestContext& ctx) {
  if (authorization.empty()) {
    return Status(ErrorCode::kMissingAuthenticationToken, "Missing Authentication Token");
  }
  // The words after the scheme, separated by commas and/or spaces, as key=value.
  std::string_view credential, signature, signed_headers;
  std::string_view rest = authorization.substr(std::min(authorization.find(' '),
                                                        authorization.size()));
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(", ");
    if (start == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(start);
    const std::string_view word = rest.substr(0, rest.find_first_of(", "));
    rest.remove_prefix(word.size());
    const size_t eq = word.find('=');
    const std::string_view key = word.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : word.substr(eq + 1);
    if (key == "Credential") {
      credential = value;
    } else if (key == "Signature") {
      signature = value;
    } else if (key == "SignedHeaders") {
      signed_headers = value;
    }
  }
  std::string missing;
  for (auto [name, value] : {std::pair{"Credential", credential}, {"Signature", signature},
                             {"SignedHeaders", signed_headers}}) {
    if (value.empty()) {
      missing += fmt::format("Authorization header requires '{}' parameter. ", name);
    }
  }
  if (!missing.empty()) {
    return Status(ErrorCode::kIncompleteSignature, missing + "Authorization=" +
                                                       std::string(authorization));
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = credential.find('/', start);
    parts.push_back(credential.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  if (parts.size() != 5 || parts[0].empty() || parts[2].empty()) {
    return Status(ErrorCode::kIncompleteSignature,
                  "Credential should be scoped to a valid region: <key>/<date>/<region>/kinesis/"
                  "aws4_request.");
  }
  ctx.region = std::string(parts[2]);
  if (parts[0].size() == 12 &&
      parts[0].find_first_not_of("0123456789") == std::string_view::npos) {
    ctx.account = std::string(parts[0]);
  }
  return Status();
}

bool IsCbor(std::string_view content_type) {
  return content_type.starts_with(kCborContentType);
}

Status BodyAsJson(std::string_view content_type, std::string& body) {
  if (!IsCbor(content_type) || body.empty()) {
    return Status();  // an empty body is judged with the target, as for JSON
  }
  RIFFLE_ASSIGN_OR_RETURN(body, CborToJson(body));
  return Status();
}

namespace {

void DispatchJson(Broker& broker, std::string_view authorization, std::string_view target,
                  std::string& body, const Executor& executor, std::function<void(Reply)> done);

}  // namespace

void Dispatch(Broker& broker, std::string_view authorization, std::string_view target,
              std::string_view content_type, std::string& body, const Executor& executor,
              std::function<void(Reply)> done) {
  if (!IsCbor(content_type)) {
    DispatchJson(broker, authorization, target, body, executor, std::move(done));
    return;
  }
  if (Status decoded = BodyAsJson(content_type, body); !decoded.ok()) {
    done(ErrorReply(decoded, content_type));
    return;
  }
  DispatchJson(broker, authorization, target, body, executor,
               [done = std::move(done)](Reply reply) {
                 reply.body = JsonToCbor(reply.body);
                 reply.content_type = kCborContentType;
                 done(std::move(reply));
               });
}

namespace {

void DispatchJson(Broker& broker, std::string_view authorization, std::string_view target,
                  std::string& body, const Executor& executor, std::function<void(Reply)> done) {
  const bool kinesis_target = target.substr(0, kTargetPrefix.size()) == kTargetPrefix;
  const std::string_view op = kinesis_target ? target.substr(kTargetPrefix.size()) : "";
  const auto& handlers = Handlers();
  const auto it = handlers.find(op);
  const auto& async_handlers = AsyncHandlers();
  const auto async_it = async_handlers.find(op);
  const bool known = it != handlers.end() || async_it != async_handlers.end();
  auto unknown_operation = [&] {
    if (!kinesis_target) {
      return ErrorReply(Status(ErrorCode::kUnknownOperation,
                               "The X-Amz-Target header must name a Kinesis_20131202 operation."));
    }
    if (IsKnownButUnsupported(op)) {
      return ErrorReply(Status(ErrorCode::kUnknownOperation,
                               std::string(op) + " is not supported by this Riffle version yet."));
    }
    return ErrorReply(Status(ErrorCode::kUnknownOperation, "Unknown operation " + std::string(op)));
  };
  JsonDocument doc;
  if (Status parsed = doc.Parse(body); !parsed.ok()) {
    // An empty body to an unknown target is an unknown operation; any other bad body is a
    // SerializationException whatever the target.
    const bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
    done(blank && !known ? unknown_operation() : ErrorReply(parsed));
    return;
  }
  if (!known) {
    done(unknown_operation());
    return;
  }
  RequestContext ctx;
  if (Status auth = ReadCredentials(authorization, ctx); !auth.ok()) {
    done(ErrorReply(auth));
    return;
  }
  JsonObject root = doc.root();
  auto respond = [done = std::move(done)](StatusOr<std::string> result) {
    done(result.ok() ? Reply{200, std::move(result).value(), ""} : ErrorReply(result.status()));
  };
  if (async_it != async_handlers.end()) {
    async_it->second(broker, ctx, root, doc.error(), executor, std::move(respond));
  } else {
    respond(it->second(broker, ctx, root, doc.error()));
  }
}

}  // namespace

}  // namespace riffle::kinesis_http
