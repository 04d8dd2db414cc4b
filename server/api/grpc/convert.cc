#include "server/api/grpc/convert.h"

#include <optional>
#include <utility>
#include <vector>

namespace riffle::grpc_api {
namespace {

std::optional<std::string> NonEmpty(const std::string& value) {
  if (value.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> StreamModeFromProto(v1::StreamMode mode) {
  switch (mode) {
    case v1::STREAM_MODE_UNSPECIFIED:
      return std::nullopt;
    case v1::PROVISIONED:
      return "PROVISIONED";
    case v1::ON_DEMAND:
      return "ON_DEMAND";
    default:
      // A value from a newer client: the broker rejects it as outside the enum.
      return std::to_string(static_cast<int>(mode));
  }
}

std::optional<std::string> IteratorTypeFromProto(v1::ShardIteratorType type) {
  switch (type) {
    case v1::SHARD_ITERATOR_TYPE_UNSPECIFIED:
      return std::nullopt;
    case v1::AT_SEQUENCE_NUMBER:
      return "AT_SEQUENCE_NUMBER";
    case v1::AFTER_SEQUENCE_NUMBER:
      return "AFTER_SEQUENCE_NUMBER";
    case v1::TRIM_HORIZON:
      return "TRIM_HORIZON";
    case v1::LATEST:
      return "LATEST";
    case v1::AT_TIMESTAMP:
      return "AT_TIMESTAMP";
    default:
      return std::to_string(static_cast<int>(type));
  }
}

std::optional<std::string> ScalingTypeFromProto(v1::ScalingType type) {
  switch (type) {
    case v1::SCALING_TYPE_UNSPECIFIED:
      return std::nullopt;
    case v1::UNIFORM_SCALING:
      return "UNIFORM_SCALING";
    default:
      return std::to_string(static_cast<int>(type));
  }
}

void ToProto(const broker::HashKeyRange& in, v1::HashKeyRange& out) {
  out.set_starting_hash_key(in.starting_hash_key);
  out.set_ending_hash_key(in.ending_hash_key);
}

void ToProto(const broker::ShardDescription& in, v1::Shard& out) {
  out.set_shard_id(in.shard_id);
  out.set_parent_shard_id(in.parent_shard_id.value_or(""));
  out.set_adjacent_parent_shard_id(in.adjacent_parent_shard_id.value_or(""));
  ToProto(in.hash_key_range, *out.mutable_hash_key_range());
  out.set_starting_sequence_number(in.starting_sequence_number);
  out.set_ending_sequence_number(in.ending_sequence_number.value_or(""));
}

// Moves each record's data: one response can carry 10 MiB.
void MoveRecords(std::vector<broker::Record>& in,
                 google::protobuf::RepeatedPtrField<v1::Record>& out) {
  out.Reserve(static_cast<int>(in.size()));
  for (broker::Record& record : in) {
    v1::Record& proto = *out.Add();
    proto.set_sequence_number(std::move(record.sequence_number));
    proto.set_arrival_time_ms(record.arrival_time_ms);
    proto.set_data(std::move(record.data));
    proto.set_partition_key(std::move(record.partition_key));
    proto.set_encryption_type(record.encryption_type.value_or(""));
  }
}

void ToProto(const std::vector<broker::ChildShard>& in,
             google::protobuf::RepeatedPtrField<v1::ChildShard>& out) {
  for (const broker::ChildShard& child : in) {
    v1::ChildShard& proto = *out.Add();
    proto.set_shard_id(child.shard_id);
    proto.mutable_parent_shards()->Add(child.parent_shards.begin(), child.parent_shards.end());
    ToProto(child.hash_key_range, *proto.mutable_hash_key_range());
  }
}

}  // namespace

broker::StreamRef FromProto(const v1::StreamRef& in) {
  return broker::StreamRef{.name = NonEmpty(in.name()), .arn = NonEmpty(in.arn())};
}

broker::CreateStreamRequest FromProto(const v1::CreateStreamRequest& in) {
  broker::CreateStreamRequest out;
  out.stream_name = in.stream_name();
  if (in.has_shard_count()) {
    out.shard_count = in.shard_count();
  }
  out.stream_mode = StreamModeFromProto(in.mode());
  out.tags.insert(in.tags().begin(), in.tags().end());
  if (in.has_max_record_size_kib()) {
    out.max_record_size_kib = in.max_record_size_kib();
  }
  if (in.has_warm_throughput_mibps()) {
    out.warm_throughput_mibps = in.warm_throughput_mibps();
  }
  if (in.has_replication_factor()) {
    out.replication_factor = in.replication_factor();
  }
  return out;
}

broker::DeleteStreamRequest FromProto(const v1::DeleteStreamRequest& in) {
  return broker::DeleteStreamRequest{
      .stream = FromProto(in.stream()),
      .enforce_consumer_deletion = in.enforce_consumer_deletion(),
  };
}

broker::DescribeStreamRequest FromProto(const v1::DescribeStreamRequest& in) {
  broker::DescribeStreamRequest out;
  out.stream = FromProto(in.stream());
  if (in.has_limit()) {
    out.limit = in.limit();
  }
  out.exclusive_start_shard_id = NonEmpty(in.exclusive_start_shard_id());
  return out;
}

broker::ListStreamsRequest FromProto(const v1::ListStreamsRequest& in) {
  broker::ListStreamsRequest out;
  if (in.has_limit()) {
    out.limit = in.limit();
  }
  out.exclusive_start_stream_name = NonEmpty(in.exclusive_start_stream_name());
  out.next_token = NonEmpty(in.next_token());
  return out;
}

broker::ListShardsRequest FromProto(const v1::ListShardsRequest& in) {
  broker::ListShardsRequest out;
  out.stream = FromProto(in.stream());
  out.next_token = NonEmpty(in.next_token());
  out.exclusive_start_shard_id = NonEmpty(in.exclusive_start_shard_id());
  if (in.has_max_results()) {
    out.max_results = in.max_results();
  }
  if (in.has_stream_creation_time_ms()) {
    out.stream_creation_timestamp_ms = in.stream_creation_time_ms();
  }
  if (in.has_shard_filter()) {
    const v1::ShardFilter& filter = in.shard_filter();
    broker::ShardFilter& out_filter = out.shard_filter.emplace();
    out_filter.type = NonEmpty(filter.type());
    out_filter.shard_id = NonEmpty(filter.shard_id());
    if (filter.has_timestamp_ms()) {
      out_filter.timestamp_ms = filter.timestamp_ms();
    }
  }
  return out;
}

broker::PutRecordRequest FromProto(const v1::PutRecordRequest& in) {
  return broker::PutRecordRequest{
      .stream = FromProto(in.stream()),
      .data = in.data(),
      .partition_key = in.partition_key(),
      .explicit_hash_key = NonEmpty(in.explicit_hash_key()),
      .sequence_number_for_ordering = NonEmpty(in.sequence_number_for_ordering()),
  };
}

broker::PutRecordsRequest FromProto(const v1::PutRecordsRequest& in) {
  std::vector<broker::PutRecordsEntry> records;
  records.reserve(in.records_size());
  for (const v1::PutRecordsEntry& entry : in.records()) {
    records.push_back(broker::PutRecordsEntry{
        .data = entry.data(),
        .partition_key = entry.partition_key(),
        .explicit_hash_key = NonEmpty(entry.explicit_hash_key()),
    });
  }
  return broker::PutRecordsRequest{.stream = FromProto(in.stream()), .records = std::move(records)};
}

broker::GetShardIteratorRequest FromProto(const v1::GetShardIteratorRequest& in) {
  broker::GetShardIteratorRequest out;
  out.stream = FromProto(in.stream());
  out.shard_id = in.shard_id();
  out.shard_iterator_type = IteratorTypeFromProto(in.type());
  out.starting_sequence_number = NonEmpty(in.starting_sequence_number());
  if (in.has_timestamp_ms()) {
    out.timestamp_ms = in.timestamp_ms();
  }
  return out;
}

broker::GetRecordsRequest FromProto(const v1::GetRecordsRequest& in) {
  broker::GetRecordsRequest out;
  out.shard_iterator = in.shard_iterator();
  if (in.has_limit()) {
    out.limit = in.limit();
  }
  out.stream_arn = NonEmpty(in.stream_arn());
  return out;
}

broker::RetentionRequest FromProto(const v1::RetentionRequest& in) {
  return broker::RetentionRequest{.stream = FromProto(in.stream()),
                                  .retention_period_hours = in.retention_period_hours()};
}

broker::AddTagsRequest FromProto(const v1::AddTagsRequest& in) {
  return broker::AddTagsRequest{
      .stream = FromProto(in.stream()),
      .tags = std::map<std::string, std::string>(in.tags().begin(), in.tags().end()),
  };
}

broker::RemoveTagsRequest FromProto(const v1::RemoveTagsRequest& in) {
  return broker::RemoveTagsRequest{
      .stream = FromProto(in.stream()),
      .tag_keys = std::vector<std::string>(in.tag_keys().begin(), in.tag_keys().end()),
  };
}

broker::ListTagsRequest FromProto(const v1::ListTagsRequest& in) {
  broker::ListTagsRequest out;
  out.stream = FromProto(in.stream());
  out.exclusive_start_tag_key = NonEmpty(in.exclusive_start_tag_key());
  if (in.has_limit()) {
    out.limit = in.limit();
  }
  return out;
}

broker::EnhancedMonitoringRequest FromProto(const v1::EnhancedMonitoringRequest& in) {
  return broker::EnhancedMonitoringRequest{
      .stream = FromProto(in.stream()),
      .shard_level_metrics = std::vector<std::string>(in.shard_level_metrics().begin(),
                                                      in.shard_level_metrics().end()),
  };
}

broker::EncryptionRequest FromProto(const v1::EncryptionRequest& in) {
  return broker::EncryptionRequest{.stream = FromProto(in.stream()),
                                   .encryption_type = in.encryption_type(),
                                   .key_id = in.key_id()};
}

broker::UpdateStreamModeRequest FromProto(const v1::UpdateStreamModeRequest& in) {
  return broker::UpdateStreamModeRequest{.stream_arn = in.stream_arn(),
                                         .stream_mode = StreamModeFromProto(in.mode())};
}

broker::UpdateMaxRecordSizeRequest FromProto(const v1::UpdateMaxRecordSizeRequest& in) {
  return broker::UpdateMaxRecordSizeRequest{.stream_arn = in.stream_arn(),
                                            .max_record_size_kib = in.max_record_size_kib()};
}

broker::UpdateWarmThroughputRequest FromProto(const v1::UpdateStreamWarmThroughputRequest& in) {
  broker::UpdateWarmThroughputRequest out{.stream = FromProto(in.stream()),
                                          .warm_throughput_mibps = std::nullopt};
  if (in.has_warm_throughput_mibps()) {
    out.warm_throughput_mibps = in.warm_throughput_mibps();
  }
  return out;
}

broker::UpdateAccountSettingsRequest FromProto(const v1::UpdateAccountSettingsRequest& in) {
  return broker::UpdateAccountSettingsRequest{
      .minimum_throughput_billing_commitment =
          NonEmpty(in.minimum_throughput_billing_commitment())};
}

broker::ResourcePolicyRequest FromProto(const v1::PutResourcePolicyRequest& in) {
  // The policy is sent as given: an empty one is an invalid document, not an absent one.
  return broker::ResourcePolicyRequest{.resource_arn = NonEmpty(in.resource_arn()),
                                       .policy = in.policy()};
}

broker::ResourcePolicyRequest FromProto(const v1::GetResourcePolicyRequest& in) {
  return broker::ResourcePolicyRequest{.resource_arn = NonEmpty(in.resource_arn()),
                                       .policy = std::nullopt};
}

broker::ResourcePolicyRequest FromProto(const v1::DeleteResourcePolicyRequest& in) {
  return broker::ResourcePolicyRequest{.resource_arn = NonEmpty(in.resource_arn()),
                                       .policy = std::nullopt};
}

broker::SplitShardRequest FromProto(const v1::SplitShardRequest& in) {
  return broker::SplitShardRequest{
      .stream = FromProto(in.stream()),
      .shard_to_split = in.shard_to_split(),
      .new_starting_hash_key = in.new_starting_hash_key(),
  };
}

broker::MergeShardsRequest FromProto(const v1::MergeShardsRequest& in) {
  return broker::MergeShardsRequest{
      .stream = FromProto(in.stream()),
      .shard_to_merge = in.shard_to_merge(),
      .adjacent_shard_to_merge = in.adjacent_shard_to_merge(),
  };
}

broker::UpdateShardCountRequest FromProto(const v1::UpdateShardCountRequest& in) {
  return broker::UpdateShardCountRequest{
      .stream = FromProto(in.stream()),
      .target_shard_count = in.target_shard_count(),
      .scaling_type = ScalingTypeFromProto(in.scaling_type()),
  };
}

broker::RegisterConsumerRequest FromProto(const v1::RegisterStreamConsumerRequest& in) {
  return broker::RegisterConsumerRequest{.stream_arn = in.stream_arn(),
                                         .consumer_name = in.consumer_name()};
}

broker::ConsumerRef FromProto(const v1::ConsumerRef& in) {
  // All optional: the broker says which combinations name a consumer.
  return broker::ConsumerRef{
      .stream_arn = NonEmpty(in.stream_arn()),
      .consumer_name = NonEmpty(in.consumer_name()),
      .consumer_arn = NonEmpty(in.consumer_arn()),
  };
}

broker::ListConsumersRequest FromProto(const v1::ListStreamConsumersRequest& in) {
  broker::ListConsumersRequest out;
  out.stream_arn = in.stream_arn();
  out.next_token = NonEmpty(in.next_token());
  if (in.has_max_results()) {
    out.max_results = in.max_results();
  }
  if (in.has_stream_creation_time_ms()) {
    out.stream_creation_timestamp_ms = in.stream_creation_time_ms();
  }
  return out;
}

broker::SubscribeRequest FromProto(const v1::SubscribeToShardRequest& in) {
  broker::SubscribeRequest out;
  out.consumer_arn = in.consumer_arn();
  out.shard_id = in.shard_id();
  if (in.has_starting_position()) {
    const v1::StartingPosition& position = in.starting_position();
    broker::StartingPosition start;
    start.type = IteratorTypeFromProto(position.type());
    start.sequence_number = NonEmpty(position.sequence_number());
    if (position.has_timestamp_ms()) {
      start.timestamp_ms = position.timestamp_ms();
    }
    out.starting_position = std::move(start);
  }
  return out;
}

v1::StreamMode StreamModeToProto(const std::string& mode) {
  if (mode == "PROVISIONED") {
    return v1::PROVISIONED;
  }
  if (mode == "ON_DEMAND") {
    return v1::ON_DEMAND;
  }
  return v1::STREAM_MODE_UNSPECIFIED;
}

void ToProto(const broker::StreamDescription& in, v1::StreamDescription& out) {
  out.set_stream_name(in.stream_name);
  out.set_stream_arn(in.stream_arn);
  out.set_stream_status(in.stream_status);
  out.set_mode(StreamModeToProto(in.stream_mode));
  for (const broker::ShardDescription& shard : in.shards) {
    ToProto(shard, *out.add_shards());
  }
  out.set_has_more_shards(in.has_more_shards);
  out.set_retention_period_hours(in.retention_period_hours);
  out.set_creation_time_ms(in.creation_time_ms);
  out.mutable_shard_level_metrics()->Add(in.shard_level_metrics.begin(),
                                         in.shard_level_metrics.end());
  out.set_encryption_type(in.encryption_type);
  out.set_key_id(in.key_id.value_or(""));
  out.set_open_shard_count(in.open_shard_count);
  out.set_consumer_count(in.consumer_count);
  out.set_max_record_size_kib(in.max_record_size_kib);
  if (in.warm_throughput_mibps) {
    out.set_warm_throughput_mibps(static_cast<int32_t>(*in.warm_throughput_mibps));
  }
}

void ToProto(const broker::ListStreamsResult& in, v1::ListStreamsResponse& out) {
  for (const broker::StreamSummary& stream : in.streams) {
    out.add_stream_names(stream.stream_name);
    v1::StreamSummary& summary = *out.add_summaries();
    summary.set_stream_name(stream.stream_name);
    summary.set_stream_arn(stream.stream_arn);
    summary.set_stream_status(stream.stream_status);
    summary.set_mode(StreamModeToProto(stream.stream_mode));
    summary.set_creation_time_ms(stream.creation_time_ms);
  }
  out.set_has_more_streams(in.has_more_streams);
  out.set_next_token(in.next_token.value_or(""));
}

void ToProto(const broker::ListShardsResult& in, v1::ListShardsResponse& out) {
  for (const broker::ShardDescription& shard : in.shards) {
    ToProto(shard, *out.add_shards());
  }
  out.set_next_token(in.next_token.value_or(""));
}

void ToProto(const broker::PutRecordResult& in, v1::PutRecordResponse& out) {
  out.set_shard_id(in.shard_id);
  out.set_sequence_number(in.sequence_number);
  out.set_encryption_type(in.encryption_type);
}

void ToProto(const broker::PutRecordsResult& in, v1::PutRecordsResponse& out) {
  out.set_failed_record_count(in.failed_record_count);
  out.mutable_records()->Reserve(static_cast<int>(in.records.size()));
  for (const broker::PutRecordsResultEntry& entry : in.records) {
    v1::PutRecordsResultEntry& result = *out.add_records();
    result.set_shard_id(entry.shard_id.value_or(""));
    result.set_sequence_number(entry.sequence_number.value_or(""));
    result.set_error_code(entry.error_code.value_or(""));
    result.set_error_message(entry.error_message.value_or(""));
  }
  out.set_encryption_type(in.encryption_type);
}

void ToProto(broker::GetRecordsResult&& in, v1::GetRecordsResponse& out) {
  MoveRecords(in.records, *out.mutable_records());
  out.set_next_shard_iterator(in.next_shard_iterator.value_or(""));
  out.set_millis_behind_latest(in.millis_behind_latest);
  ToProto(in.child_shards, *out.mutable_child_shards());
}

void ToProto(const broker::ListTagsResult& in, v1::ListTagsResponse& out) {
  for (const auto& [key, value] : in.tags) {
    v1::Tag& tag = *out.add_tags();
    tag.set_key(key);
    tag.set_value(value);
  }
  out.set_has_more_tags(in.has_more_tags);
}

void ToProto(const broker::EnhancedMonitoringResult& in, v1::EnhancedMonitoringResponse& out) {
  out.set_stream_name(in.stream_name);
  out.set_stream_arn(in.stream_arn);
  out.mutable_current_shard_level_metrics()->Add(in.current_shard_level_metrics.begin(),
                                                 in.current_shard_level_metrics.end());
  out.mutable_desired_shard_level_metrics()->Add(in.desired_shard_level_metrics.begin(),
                                                 in.desired_shard_level_metrics.end());
}

void ToProto(const broker::UpdateShardCountResult& in, v1::UpdateShardCountResponse& out) {
  out.set_stream_name(in.stream_name);
  out.set_stream_arn(in.stream_arn);
  out.set_current_shard_count(in.current_shard_count);
  out.set_target_shard_count(in.target_shard_count);
}

void ToProto(const broker::DescribeLimitsResult& in, v1::DescribeLimitsResponse& out) {
  out.set_shard_limit(in.shard_limit);
  out.set_open_shard_count(in.open_shard_count);
  out.set_on_demand_stream_count(in.on_demand_stream_count);
  out.set_on_demand_stream_count_limit(in.on_demand_stream_count_limit);
}

void ToProto(const broker::WarmThroughputResult& in, v1::UpdateStreamWarmThroughputResponse& out) {
  out.set_stream_name(in.stream_name);
  out.set_stream_arn(in.stream_arn);
  out.set_target_mibps(static_cast<int32_t>(in.target_mibps));
  out.set_current_mibps(static_cast<int32_t>(in.current_mibps));
}

void ToProto(const broker::AccountSettings& in, v1::AccountSettings& out) {
  out.set_minimum_throughput_billing_commitment(in.commitment_status);
  if (in.started_ms) {
    out.set_started_ms(*in.started_ms);
  }
  if (in.ended_ms) {
    out.set_ended_ms(*in.ended_ms);
  }
  if (in.earliest_allowed_end_ms) {
    out.set_earliest_allowed_end_ms(*in.earliest_allowed_end_ms);
  }
}

void ToProto(const broker::ClusterDescription& in, v1::DescribeClusterResponse& out) {
  out.set_mode(in.mode);
  out.set_cluster_name(in.cluster_name);
  out.set_node_id(in.node_id);
  for (const broker::ClusterNodeInfo& node : in.nodes) {
    v1::ClusterNodeStatus& o = *out.add_nodes();
    o.set_node_id(node.node_id);
    o.set_grpc_addr(node.grpc_addr);
    o.set_kinesis_addr(node.kinesis_addr);
    o.set_is_controller(node.is_controller);
    o.set_draining(node.draining);
    o.set_shards_owned(node.shards_owned);
  }
  for (const broker::ClusterShardInfo& shard : in.shards) {
    v1::ClusterShardStatus& o = *out.add_shards();
    o.set_stream_name(shard.stream_name);
    o.set_shard_id(shard.shard_id);
    o.set_owner(shard.owner);
    o.set_epoch(shard.epoch);
    o.set_moving_to(shard.moving_to);
    o.set_owner_alive(shard.owner_alive);
    if (shard.committed_end) {
      o.set_committed_end(*shard.committed_end);
    }
    o.mutable_replicas()->Add(shard.replicas.begin(), shard.replicas.end());
    o.mutable_in_sync()->Add(shard.in_sync.begin(), shard.in_sync.end());
  }
}

void ToProto(const broker::ConsumerDescription& in, v1::Consumer& out) {
  out.set_consumer_name(in.consumer_name);
  out.set_consumer_arn(in.consumer_arn);
  out.set_consumer_status(in.consumer_status);
  out.set_creation_time_ms(in.creation_time_ms);
  out.set_stream_arn(in.stream_arn);
}

void ToProto(const broker::ListConsumersResult& in, v1::ListStreamConsumersResponse& out) {
  for (const broker::ConsumerDescription& consumer : in.consumers) {
    ToProto(consumer, *out.add_consumers());
  }
  out.set_next_token(in.next_token.value_or(""));
}

broker::GroupRef FromProto(const v1::ConsumerGroupRef& in) {
  return broker::GroupRef{.stream = FromProto(in.stream()), .group_name = NonEmpty(in.group_name())};
}

broker::CreateGroupRequest FromProto(const v1::CreateConsumerGroupRequest& in) {
  return broker::CreateGroupRequest{
      .group = FromProto(in.group()),
      .starting_position = IteratorTypeFromProto(in.starting_position()),
      .timestamp_ms = in.has_timestamp_ms() ? std::optional<int64_t>(in.timestamp_ms())
                                            : std::nullopt};
}

broker::LeaseShardRequest FromProto(const v1::LeaseShardRequest& in) {
  return broker::LeaseShardRequest{.group = FromProto(in.group()),
                                   .shard_id = NonEmpty(in.shard_id()),
                                   .owner = NonEmpty(in.owner()),
                                   .lease_duration_ms = in.lease_duration_ms(),
                                   .steal = in.steal()};
}

broker::ReleaseLeaseRequest FromProto(const v1::ReleaseShardLeaseRequest& in) {
  return broker::ReleaseLeaseRequest{.group = FromProto(in.group()),
                                     .shard_id = NonEmpty(in.shard_id()),
                                     .lease_counter = in.lease_counter()};
}

broker::CheckpointRequest FromProto(const v1::CheckpointRequest& in) {
  return broker::CheckpointRequest{.group = FromProto(in.group()),
                                   .shard_id = NonEmpty(in.shard_id()),
                                   .lease_counter = in.lease_counter(),
                                   .sequence_number = NonEmpty(in.sequence_number())};
}

void ToProto(const broker::GroupDescription& in, v1::DescribeConsumerGroupResponse& out) {
  out.set_group_name(in.group_name);
  out.set_stream_name(in.stream_name);
  out.set_creation_time_ms(in.creation_time_ms);
  for (const broker::GroupShardDescription& shard : in.shards) {
    v1::ConsumerGroupShard& proto = *out.add_shards();
    proto.set_shard_id(shard.shard_id);
    for (const std::string& parent : shard.parent_shard_ids) {
      proto.add_parent_shard_ids(parent);
    }
    proto.set_checkpoint(shard.checkpoint);
    proto.set_closed(shard.closed);
    proto.set_finished(shard.finished);
    proto.set_lease_owner(shard.lease_owner);
    proto.set_lease_expires_ms(shard.lease_expires_ms);
    proto.set_lease_counter(shard.lease_counter);
    proto.set_lag_records(shard.lag_records);
    proto.set_lag_ms(shard.lag_ms);
  }
}

void ToProto(const broker::ShardLease& in, v1::LeaseShardResponse& out) {
  out.set_shard_id(in.shard_id);
  out.set_lease_counter(in.lease_counter);
  out.set_lease_expires_ms(in.lease_expires_ms);
  out.set_checkpoint(in.checkpoint);
}

void ToProto(broker::SubscriptionEvent&& in, v1::SubscribeToShardEvent& out) {
  MoveRecords(in.records, *out.mutable_records());
  out.set_continuation_sequence_number(in.continuation_sequence_number.value_or(""));
  out.set_millis_behind_latest(in.millis_behind_latest);
  ToProto(in.child_shards, *out.mutable_child_shards());
}

}  // namespace riffle::grpc_api
