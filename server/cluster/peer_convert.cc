#include "server/cluster/peer_convert.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace riffle::cluster {
namespace {

using google::protobuf::RepeatedPtrField;

// The proto reads an empty string as absent, where the broker type says so.
std::optional<std::string> NonEmpty(const std::string& value) {
  if (value.empty()) {
    return std::nullopt;
  }
  return value;
}

int32_t Int32(int64_t value) {
  return static_cast<int32_t>(std::clamp<int64_t>(value, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

v1::StreamMode StreamModeToProto(const std::optional<std::string>& mode) {
  if (!mode) {
    return v1::STREAM_MODE_UNSPECIFIED;
  }
  if (*mode == "PROVISIONED") {
    return v1::PROVISIONED;
  }
  if (*mode == "ON_DEMAND") {
    return v1::ON_DEMAND;
  }
  return static_cast<v1::StreamMode>(kOutsideEnum);
}

std::string StreamModeFromProto(v1::StreamMode mode) {
  switch (mode) {
    case v1::PROVISIONED:
      return "PROVISIONED";
    case v1::ON_DEMAND:
      return "ON_DEMAND";
    default:
      return "";
  }
}

v1::ShardIteratorType IteratorTypeToProto(const std::optional<std::string>& type) {
  if (!type) {
    return v1::SHARD_ITERATOR_TYPE_UNSPECIFIED;
  }
  for (v1::ShardIteratorType value : {v1::AT_SEQUENCE_NUMBER, v1::AFTER_SEQUENCE_NUMBER,
                                      v1::TRIM_HORIZON, v1::LATEST, v1::AT_TIMESTAMP}) {
    if (*type == v1::ShardIteratorType_Name(value)) {
      return value;
    }
  }
  return static_cast<v1::ShardIteratorType>(kOutsideEnum);
}

v1::ScalingType ScalingTypeToProto(const std::optional<std::string>& type) {
  if (!type) {
    return v1::SCALING_TYPE_UNSPECIFIED;
  }
  if (*type == "UNIFORM_SCALING") {
    return v1::UNIFORM_SCALING;
  }
  return static_cast<v1::ScalingType>(kOutsideEnum);
}

void ToProto(const broker::StreamRef& in, v1::StreamRef& out) {
  out.set_name(in.name.value_or(""));
  out.set_arn(in.arn.value_or(""));
}

broker::HashKeyRange FromProto(const v1::HashKeyRange& in) {
  return broker::HashKeyRange{in.starting_hash_key(), in.ending_hash_key()};
}

broker::ShardDescription FromProto(const v1::Shard& in) {
  return broker::ShardDescription{
      .shard_id = in.shard_id(),
      .parent_shard_id = NonEmpty(in.parent_shard_id()),
      .adjacent_parent_shard_id = NonEmpty(in.adjacent_parent_shard_id()),
      .hash_key_range = FromProto(in.hash_key_range()),
      .starting_sequence_number = in.starting_sequence_number(),
      .ending_sequence_number = NonEmpty(in.ending_sequence_number()),
  };
}

std::vector<broker::ShardDescription> FromProto(const RepeatedPtrField<v1::Shard>& in) {
  std::vector<broker::ShardDescription> out;
  out.reserve(in.size());
  for (const v1::Shard& shard : in) {
    out.push_back(FromProto(shard));
  }
  return out;
}

}  // namespace

v1::CreateStreamRequest ToProto(const broker::CreateStreamRequest& in) {
  v1::CreateStreamRequest out;
  out.set_stream_name(in.stream_name.value_or(""));
  if (in.shard_count) {
    out.set_shard_count(Int32(*in.shard_count));
  }
  out.set_mode(StreamModeToProto(in.stream_mode));
  out.mutable_tags()->insert(in.tags.begin(), in.tags.end());
  if (in.max_record_size_kib) {
    out.set_max_record_size_kib(Int32(*in.max_record_size_kib));
  }
  if (in.warm_throughput_mibps) {
    out.set_warm_throughput_mibps(Int32(*in.warm_throughput_mibps));
  }
  if (in.replication_factor) {
    out.set_replication_factor(Int32(*in.replication_factor));
  }
  return out;
}

v1::DeleteStreamRequest ToProto(const broker::DeleteStreamRequest& in) {
  v1::DeleteStreamRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_enforce_consumer_deletion(in.enforce_consumer_deletion);
  return out;
}

v1::DescribeStreamRequest ToProto(const broker::DescribeStreamRequest& in) {
  v1::DescribeStreamRequest out;
  ToProto(in.stream, *out.mutable_stream());
  if (in.limit) {
    out.set_limit(Int32(*in.limit));
  }
  out.set_exclusive_start_shard_id(in.exclusive_start_shard_id.value_or(""));
  return out;
}

v1::DescribeStreamSummaryRequest ToProto(const broker::StreamRef& in) {
  v1::DescribeStreamSummaryRequest out;
  ToProto(in, *out.mutable_stream());
  return out;
}

v1::ListStreamsRequest ToProto(const broker::ListStreamsRequest& in) {
  v1::ListStreamsRequest out;
  if (in.limit) {
    out.set_limit(Int32(*in.limit));
  }
  out.set_exclusive_start_stream_name(in.exclusive_start_stream_name.value_or(""));
  out.set_next_token(in.next_token.value_or(""));
  return out;
}

v1::ListShardsRequest ToProto(const broker::ListShardsRequest& in) {
  v1::ListShardsRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_next_token(in.next_token.value_or(""));
  out.set_exclusive_start_shard_id(in.exclusive_start_shard_id.value_or(""));
  if (in.max_results) {
    out.set_max_results(Int32(*in.max_results));
  }
  if (in.stream_creation_timestamp_ms) {
    out.set_stream_creation_time_ms(*in.stream_creation_timestamp_ms);
  }
  if (in.shard_filter) {
    v1::ShardFilter& filter = *out.mutable_shard_filter();
    filter.set_type(in.shard_filter->type.value_or(""));
    filter.set_shard_id(in.shard_filter->shard_id.value_or(""));
    if (in.shard_filter->timestamp_ms) {
      filter.set_timestamp_ms(*in.shard_filter->timestamp_ms);
    }
  }
  return out;
}

v1::PutRecordRequest ToProto(const broker::PutRecordRequest& in) {
  v1::PutRecordRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_data(in.data.value_or(""));
  out.set_partition_key(in.partition_key.value_or(""));
  out.set_explicit_hash_key(in.explicit_hash_key.value_or(""));
  out.set_sequence_number_for_ordering(in.sequence_number_for_ordering.value_or(""));
  return out;
}

v1::PutRecordsRequest ToProto(const broker::PutRecordsRequest& in) {
  v1::PutRecordsRequest out;
  ToProto(in.stream, *out.mutable_stream());
  if (in.records) {
    out.mutable_records()->Reserve(static_cast<int>(in.records->size()));
    for (const broker::PutRecordsEntry& entry : *in.records) {
      v1::PutRecordsEntry& proto = *out.add_records();
      proto.set_data(entry.data.value_or(""));
      proto.set_partition_key(entry.partition_key.value_or(""));
      proto.set_explicit_hash_key(entry.explicit_hash_key.value_or(""));
    }
  }
  return out;
}

v1::GetShardIteratorRequest ToProto(const broker::GetShardIteratorRequest& in) {
  v1::GetShardIteratorRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_shard_id(in.shard_id.value_or(""));
  out.set_type(IteratorTypeToProto(in.shard_iterator_type));
  out.set_starting_sequence_number(in.starting_sequence_number.value_or(""));
  if (in.timestamp_ms) {
    out.set_timestamp_ms(*in.timestamp_ms);
  }
  return out;
}

v1::GetRecordsRequest ToProto(const broker::GetRecordsRequest& in) {
  v1::GetRecordsRequest out;
  out.set_shard_iterator(in.shard_iterator.value_or(""));
  if (in.limit) {
    out.set_limit(Int32(*in.limit));
  }
  out.set_stream_arn(in.stream_arn.value_or(""));
  return out;
}

v1::RetentionRequest ToProto(const broker::RetentionRequest& in) {
  v1::RetentionRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_retention_period_hours(Int32(in.retention_period_hours.value_or(0)));
  return out;
}

v1::AddTagsRequest ToProto(const broker::AddTagsRequest& in) {
  v1::AddTagsRequest out;
  ToProto(in.stream, *out.mutable_stream());
  if (in.tags) {
    out.mutable_tags()->insert(in.tags->begin(), in.tags->end());
  }
  return out;
}

v1::RemoveTagsRequest ToProto(const broker::RemoveTagsRequest& in) {
  v1::RemoveTagsRequest out;
  ToProto(in.stream, *out.mutable_stream());
  if (in.tag_keys) {
    out.mutable_tag_keys()->Add(in.tag_keys->begin(), in.tag_keys->end());
  }
  return out;
}

v1::ListTagsRequest ToProto(const broker::ListTagsRequest& in) {
  v1::ListTagsRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_exclusive_start_tag_key(in.exclusive_start_tag_key.value_or(""));
  if (in.limit) {
    out.set_limit(Int32(*in.limit));
  }
  return out;
}

v1::EnhancedMonitoringRequest ToProto(const broker::EnhancedMonitoringRequest& in) {
  v1::EnhancedMonitoringRequest out;
  ToProto(in.stream, *out.mutable_stream());
  if (in.shard_level_metrics) {
    out.mutable_shard_level_metrics()->Add(in.shard_level_metrics->begin(),
                                           in.shard_level_metrics->end());
  }
  return out;
}

v1::EncryptionRequest ToProto(const broker::EncryptionRequest& in) {
  v1::EncryptionRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_encryption_type(in.encryption_type.value_or(""));
  out.set_key_id(in.key_id.value_or(""));
  return out;
}

v1::UpdateStreamModeRequest ToProto(const broker::UpdateStreamModeRequest& in) {
  v1::UpdateStreamModeRequest out;
  out.set_stream_arn(in.stream_arn.value_or(""));
  out.set_mode(StreamModeToProto(in.stream_mode));
  return out;
}

v1::UpdateMaxRecordSizeRequest ToProto(const broker::UpdateMaxRecordSizeRequest& in) {
  v1::UpdateMaxRecordSizeRequest out;
  out.set_stream_arn(in.stream_arn.value_or(""));
  out.set_max_record_size_kib(Int32(in.max_record_size_kib.value_or(0)));
  return out;
}

v1::UpdateStreamWarmThroughputRequest ToProto(const broker::UpdateWarmThroughputRequest& in) {
  v1::UpdateStreamWarmThroughputRequest out;
  ToProto(in.stream, *out.mutable_stream());
  if (in.warm_throughput_mibps) {
    out.set_warm_throughput_mibps(Int32(*in.warm_throughput_mibps));
  }
  return out;
}

v1::UpdateAccountSettingsRequest ToProto(const broker::UpdateAccountSettingsRequest& in) {
  v1::UpdateAccountSettingsRequest out;
  out.set_minimum_throughput_billing_commitment(
      in.minimum_throughput_billing_commitment.value_or(""));
  return out;
}

v1::PutResourcePolicyRequest ToProto(const broker::ResourcePolicyRequest& in) {
  v1::PutResourcePolicyRequest out;
  out.set_resource_arn(in.resource_arn.value_or(""));
  out.set_policy(in.policy.value_or(""));
  return out;
}

v1::SplitShardRequest ToProto(const broker::SplitShardRequest& in) {
  v1::SplitShardRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_shard_to_split(in.shard_to_split.value_or(""));
  out.set_new_starting_hash_key(in.new_starting_hash_key.value_or(""));
  return out;
}

v1::MergeShardsRequest ToProto(const broker::MergeShardsRequest& in) {
  v1::MergeShardsRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_shard_to_merge(in.shard_to_merge.value_or(""));
  out.set_adjacent_shard_to_merge(in.adjacent_shard_to_merge.value_or(""));
  return out;
}

v1::UpdateShardCountRequest ToProto(const broker::UpdateShardCountRequest& in) {
  v1::UpdateShardCountRequest out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_target_shard_count(Int32(in.target_shard_count.value_or(0)));
  out.set_scaling_type(ScalingTypeToProto(in.scaling_type));
  return out;
}

v1::RegisterStreamConsumerRequest ToProto(const broker::RegisterConsumerRequest& in) {
  v1::RegisterStreamConsumerRequest out;
  out.set_stream_arn(in.stream_arn.value_or(""));
  out.set_consumer_name(in.consumer_name.value_or(""));
  return out;
}

v1::ConsumerRef ToProto(const broker::ConsumerRef& in) {
  v1::ConsumerRef out;
  out.set_stream_arn(in.stream_arn.value_or(""));
  out.set_consumer_name(in.consumer_name.value_or(""));
  out.set_consumer_arn(in.consumer_arn.value_or(""));
  return out;
}

v1::ListStreamConsumersRequest ToProto(const broker::ListConsumersRequest& in) {
  v1::ListStreamConsumersRequest out;
  out.set_stream_arn(in.stream_arn.value_or(""));
  out.set_next_token(in.next_token.value_or(""));
  if (in.max_results) {
    out.set_max_results(Int32(*in.max_results));
  }
  if (in.stream_creation_timestamp_ms) {
    out.set_stream_creation_time_ms(*in.stream_creation_timestamp_ms);
  }
  return out;
}

v1::ConsumerGroupRef ToProto(const broker::GroupRef& in) {
  v1::ConsumerGroupRef out;
  ToProto(in.stream, *out.mutable_stream());
  out.set_group_name(in.group_name.value_or(""));
  return out;
}

v1::CreateConsumerGroupRequest ToProto(const broker::CreateGroupRequest& in) {
  v1::CreateConsumerGroupRequest out;
  *out.mutable_group() = ToProto(in.group);
  out.set_starting_position(IteratorTypeToProto(in.starting_position));
  if (in.timestamp_ms) {
    out.set_timestamp_ms(*in.timestamp_ms);
  }
  return out;
}

v1::LeaseShardRequest ToProto(const broker::LeaseShardRequest& in) {
  v1::LeaseShardRequest out;
  *out.mutable_group() = ToProto(in.group);
  out.set_shard_id(in.shard_id.value_or(""));
  out.set_owner(in.owner.value_or(""));
  out.set_lease_duration_ms(in.lease_duration_ms.value_or(0));
  out.set_steal(in.steal);
  return out;
}

v1::ReleaseShardLeaseRequest ToProto(const broker::ReleaseLeaseRequest& in) {
  v1::ReleaseShardLeaseRequest out;
  *out.mutable_group() = ToProto(in.group);
  out.set_shard_id(in.shard_id.value_or(""));
  out.set_lease_counter(in.lease_counter.value_or(0));
  return out;
}

v1::CheckpointRequest ToProto(const broker::CheckpointRequest& in) {
  v1::CheckpointRequest out;
  *out.mutable_group() = ToProto(in.group);
  out.set_shard_id(in.shard_id.value_or(""));
  out.set_lease_counter(in.lease_counter.value_or(0));
  out.set_sequence_number(in.sequence_number.value_or(""));
  return out;
}

broker::StreamDescription FromProto(const v1::StreamDescription& in) {
  broker::StreamDescription out;
  out.stream_name = in.stream_name();
  out.stream_arn = in.stream_arn();
  out.stream_status = in.stream_status();
  out.stream_mode = StreamModeFromProto(in.mode());
  out.shards = FromProto(in.shards());
  out.has_more_shards = in.has_more_shards();
  out.retention_period_hours = in.retention_period_hours();
  out.creation_time_ms = in.creation_time_ms();
  out.shard_level_metrics.assign(in.shard_level_metrics().begin(), in.shard_level_metrics().end());
  out.encryption_type = in.encryption_type();
  out.key_id = NonEmpty(in.key_id());
  out.open_shard_count = in.open_shard_count();
  out.consumer_count = in.consumer_count();
  out.max_record_size_kib = in.max_record_size_kib();
  if (in.has_warm_throughput_mibps()) {
    out.warm_throughput_mibps = in.warm_throughput_mibps();
  }
  return out;
}

broker::WarmThroughputResult FromProto(const v1::UpdateStreamWarmThroughputResponse& in) {
  return broker::WarmThroughputResult{in.stream_name(), in.stream_arn(), in.target_mibps(),
                                      in.current_mibps()};
}

broker::AccountSettings FromProto(const v1::AccountSettings& in) {
  broker::AccountSettings out;
  out.commitment_status = in.minimum_throughput_billing_commitment();
  if (in.has_started_ms()) {
    out.started_ms = in.started_ms();
  }
  if (in.has_ended_ms()) {
    out.ended_ms = in.ended_ms();
  }
  if (in.has_earliest_allowed_end_ms()) {
    out.earliest_allowed_end_ms = in.earliest_allowed_end_ms();
  }
  return out;
}

broker::ListStreamsResult FromProto(const v1::ListStreamsResponse& in) {
  broker::ListStreamsResult out;
  out.streams.reserve(in.summaries_size());
  for (const v1::StreamSummary& summary : in.summaries()) {
    out.streams.push_back(broker::StreamSummary{
        .stream_name = summary.stream_name(),
        .stream_arn = summary.stream_arn(),
        .stream_status = summary.stream_status(),
        .stream_mode = StreamModeFromProto(summary.mode()),
        .creation_time_ms = summary.creation_time_ms(),
    });
  }
  out.has_more_streams = in.has_more_streams();
  out.next_token = NonEmpty(in.next_token());
  return out;
}

broker::ListShardsResult FromProto(const v1::ListShardsResponse& in) {
  return broker::ListShardsResult{.shards = FromProto(in.shards()),
                                  .next_token = NonEmpty(in.next_token())};
}

broker::PutRecordResult FromProto(const v1::PutRecordResponse& in) {
  return broker::PutRecordResult{.shard_id = in.shard_id(),
                                 .sequence_number = in.sequence_number(),
                                 .encryption_type = in.encryption_type()};
}

broker::PutRecordsResult FromProto(const v1::PutRecordsResponse& in) {
  broker::PutRecordsResult out;
  out.failed_record_count = in.failed_record_count();
  out.records.reserve(in.records_size());
  for (const v1::PutRecordsResultEntry& entry : in.records()) {
    out.records.push_back(broker::PutRecordsResultEntry{
        .shard_id = NonEmpty(entry.shard_id()),
        .sequence_number = NonEmpty(entry.sequence_number()),
        .error_code = NonEmpty(entry.error_code()),
        .error_message = NonEmpty(entry.error_message()),
    });
  }
  out.encryption_type = in.encryption_type();
  return out;
}

broker::GetRecordsResult FromProto(v1::GetRecordsResponse&& in) {
  broker::GetRecordsResult out;
  out.records.reserve(in.records_size());
  for (v1::Record& record : *in.mutable_records()) {
    out.records.push_back(broker::Record{
        .sequence_number = std::move(*record.mutable_sequence_number()),
        .arrival_time_ms = record.arrival_time_ms(),
        .data = std::move(*record.mutable_data()),
        .partition_key = std::move(*record.mutable_partition_key()),
        .encryption_type = NonEmpty(record.encryption_type()),
    });
  }
  out.next_shard_iterator = NonEmpty(in.next_shard_iterator());
  out.millis_behind_latest = in.millis_behind_latest();
  for (const v1::ChildShard& child : in.child_shards()) {
    out.child_shards.push_back(broker::ChildShard{
        .shard_id = child.shard_id(),
        .parent_shards = {child.parent_shards().begin(), child.parent_shards().end()},
        .hash_key_range = FromProto(child.hash_key_range()),
    });
  }
  return out;
}

broker::ListTagsResult FromProto(const v1::ListTagsResponse& in) {
  broker::ListTagsResult out;
  out.tags.reserve(in.tags_size());
  for (const v1::Tag& tag : in.tags()) {
    out.tags.emplace_back(tag.key(), tag.value());
  }
  out.has_more_tags = in.has_more_tags();
  return out;
}

broker::EnhancedMonitoringResult FromProto(const v1::EnhancedMonitoringResponse& in) {
  return broker::EnhancedMonitoringResult{
      .stream_name = in.stream_name(),
      .stream_arn = in.stream_arn(),
      .current_shard_level_metrics = {in.current_shard_level_metrics().begin(),
                                      in.current_shard_level_metrics().end()},
      .desired_shard_level_metrics = {in.desired_shard_level_metrics().begin(),
                                      in.desired_shard_level_metrics().end()},
  };
}

broker::UpdateShardCountResult FromProto(const v1::UpdateShardCountResponse& in) {
  return broker::UpdateShardCountResult{
      .stream_name = in.stream_name(),
      .stream_arn = in.stream_arn(),
      .current_shard_count = in.current_shard_count(),
      .target_shard_count = in.target_shard_count(),
  };
}

broker::ConsumerDescription FromProto(const v1::Consumer& in) {
  return broker::ConsumerDescription{
      .consumer_name = in.consumer_name(),
      .consumer_arn = in.consumer_arn(),
      .consumer_status = in.consumer_status(),
      .creation_time_ms = in.creation_time_ms(),
      .stream_arn = in.stream_arn(),
  };
}

broker::ListConsumersResult FromProto(const v1::ListStreamConsumersResponse& in) {
  broker::ListConsumersResult out;
  out.consumers.reserve(in.consumers_size());
  for (const v1::Consumer& consumer : in.consumers()) {
    out.consumers.push_back(FromProto(consumer));
  }
  out.next_token = NonEmpty(in.next_token());
  return out;
}

broker::DescribeLimitsResult FromProto(const v1::DescribeLimitsResponse& in) {
  return broker::DescribeLimitsResult{
      .shard_limit = in.shard_limit(),
      .open_shard_count = in.open_shard_count(),
      .on_demand_stream_count = in.on_demand_stream_count(),
      .on_demand_stream_count_limit = in.on_demand_stream_count_limit(),
  };
}

broker::GroupDescription FromProto(const v1::DescribeConsumerGroupResponse& in) {
  broker::GroupDescription out;
  out.group_name = in.group_name();
  out.stream_name = in.stream_name();
  out.creation_time_ms = in.creation_time_ms();
  out.shards.reserve(in.shards_size());
  for (const v1::ConsumerGroupShard& shard : in.shards()) {
    out.shards.push_back(broker::GroupShardDescription{
        .shard_id = shard.shard_id(),
        .parent_shard_ids = {shard.parent_shard_ids().begin(), shard.parent_shard_ids().end()},
        .checkpoint = shard.checkpoint(),
        .closed = shard.closed(),
        .finished = shard.finished(),
        .lease_owner = shard.lease_owner(),
        .lease_expires_ms = shard.lease_expires_ms(),
        .lease_counter = shard.lease_counter(),
        .lag_records = shard.lag_records(),
        .lag_ms = shard.lag_ms(),
    });
  }
  return out;
}

broker::ShardLease FromProto(const v1::LeaseShardResponse& in) {
  return broker::ShardLease{
      .shard_id = in.shard_id(),
      .lease_counter = in.lease_counter(),
      .lease_expires_ms = in.lease_expires_ms(),
      .checkpoint = in.checkpoint(),
  };
}

}  // namespace riffle::cluster
