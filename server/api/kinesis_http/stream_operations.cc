#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/api/kinesis_http/json.h"
#include "server/api/kinesis_http/operation_handlers.h"

namespace riffle::kinesis_http {
namespace {

using broker::Broker;
using broker::RequestContext;

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

void WriteWarmThroughput(JsonWriter& out, int64_t target_mibps, int64_t current_mibps) {
  out.Key("WarmThroughput")
      .BeginObject()
      .MemberInt("TargetMiBps", target_mibps)
      .MemberInt("CurrentMiBps", current_mibps)
      .EndObject();
}

void WriteEncryption(JsonWriter& out, const broker::StreamDescription& d) {
  out.Member("EncryptionType", d.encryption_type);
  if (d.key_id) {
    out.Member("KeyId", *d.key_id);
  }
}

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
  req.warm_throughput_mibps = in.Integer("WarmThroughputMiBps");
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
  if (d.warm_throughput_mibps) {
    WriteWarmThroughput(out, *d.warm_throughput_mibps, *d.warm_throughput_mibps);
  }
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
  RIFFLE_ASSIGN_OR_RETURN(
      broker::EnhancedMonitoringResult r,
      enable ? b.EnableEnhancedMonitoring(ctx, req) : b.DisableEnhancedMonitoring(ctx, req));
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
  broker::EncryptionRequest req{ReadStreamRef(in), in.String("EncryptionType"), in.String("KeyId")};
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

std::string WriteAccountSettings(const broker::AccountSettings& settings) {
  JsonWriter out;
  out.BeginObject().Key("MinimumThroughputBillingCommitment").BeginObject();
  out.Member("Status", settings.commitment_status);
  for (const auto& [name, time] : {std::pair{"StartedAt", settings.started_ms},
                                   std::pair{"EndedAt", settings.ended_ms},
                                   std::pair{"EarliestAllowedEndAt",
                                             settings.earliest_allowed_end_ms}}) {
    if (time) {
      out.Key(name).Timestamp(*time);
    }
  }
  out.EndObject().EndObject();
  return out.Take();
}

StatusOr<std::string> DescribeAccountSettings(Broker& b, const RequestContext& ctx, JsonObject&,
                                              const Status& decode_error) {
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::AccountSettings settings, b.DescribeAccountSettings(ctx));
  return WriteAccountSettings(settings);
}

StatusOr<std::string> UpdateAccountSettings(Broker& b, const RequestContext& ctx, JsonObject& in,
                                            const Status& decode_error) {
  broker::UpdateAccountSettingsRequest req;
  if (std::optional<JsonObject> commitment = in.Object("MinimumThroughputBillingCommitment")) {
    req.minimum_throughput_billing_commitment = commitment->String("Status");
  }
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::AccountSettings settings, b.UpdateAccountSettings(ctx, req));
  return WriteAccountSettings(settings);
}

StatusOr<std::string> UpdateStreamWarmThroughput(Broker& b, const RequestContext& ctx,
                                                 JsonObject& in, const Status& decode_error) {
  broker::UpdateWarmThroughputRequest req{ReadStreamRef(in), in.Integer("WarmThroughputMiBps")};
  in.String("StreamId");  // reserved by AWS for future use
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(broker::WarmThroughputResult r, b.UpdateStreamWarmThroughput(ctx, req));
  JsonWriter out;
  out.BeginObject().Member("StreamARN", r.stream_arn).Member("StreamName", r.stream_name);
  WriteWarmThroughput(out, r.target_mibps, r.current_mibps);
  out.EndObject();
  return out.Take();
}

broker::ResourcePolicyRequest ReadResourcePolicyRequest(JsonObject& in) {
  in.String("StreamId");  // reserved by AWS for future use
  return broker::ResourcePolicyRequest{in.String("ResourceARN"), in.String("Policy")};
}

StatusOr<std::string> PutResourcePolicy(Broker& b, const RequestContext& ctx, JsonObject& in,
                                        const Status& decode_error) {
  broker::ResourcePolicyRequest req = ReadResourcePolicyRequest(in);
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.PutResourcePolicy(ctx, req));
  return Empty();
}

StatusOr<std::string> GetResourcePolicy(Broker& b, const RequestContext& ctx, JsonObject& in,
                                        const Status& decode_error) {
  broker::ResourcePolicyRequest req = ReadResourcePolicyRequest(in);
  RIFFLE_DECODED(decode_error);
  RIFFLE_ASSIGN_OR_RETURN(std::string policy, b.GetResourcePolicy(ctx, req));
  JsonWriter out;
  out.BeginObject().Member("Policy", policy).EndObject();
  return out.Take();
}

StatusOr<std::string> DeleteResourcePolicy(Broker& b, const RequestContext& ctx, JsonObject& in,
                                           const Status& decode_error) {
  broker::ResourcePolicyRequest req = ReadResourcePolicyRequest(in);
  RIFFLE_DECODED(decode_error);
  RIFFLE_RETURN_IF_ERROR(b.DeleteResourcePolicy(ctx, req));
  return Empty();
}

}  // namespace

void AddStreamOperations(HandlerMap& handlers) {
  using namespace std::placeholders;
  handlers.insert({
      {"CreateStream", CreateStream},
      {"DeleteStream", DeleteStream},
      {"DescribeStream", DescribeStream},
      {"DescribeStreamSummary", DescribeStreamSummary},
      {"ListStreams", ListStreams},
      {"ListShards", ListShards},
      {"IncreaseStreamRetentionPeriod", IncreaseRetention},
      {"DecreaseStreamRetentionPeriod", DecreaseRetention},
      {"AddTagsToStream", [](Broker& b, const RequestContext& c, JsonObject& in,
                             const Status& e) { return AddTags(b, c, in, e, ReadStreamRef(in)); }},
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
      {"DescribeAccountSettings", DescribeAccountSettings},
      {"UpdateAccountSettings", UpdateAccountSettings},
      {"UpdateStreamWarmThroughput", UpdateStreamWarmThroughput},
      {"PutResourcePolicy", PutResourcePolicy},
      {"GetResourcePolicy", GetResourcePolicy},
      {"DeleteResourcePolicy", DeleteResourcePolicy},
  });
}

}  // namespace riffle::kinesis_http
