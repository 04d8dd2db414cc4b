// Proto <-> broker translation for the gRPC front end. Requests are carried over without judging
// them, so every validation message is the broker's: a proto3 `optional` left unset becomes
// nullopt, and so does an empty string in a member Kinesis treats as optional (stream name or
// ARN, explicit hash key, pagination starts); members Kinesis requires are passed even when
// empty, so the broker reports their length. Enum values become the Kinesis strings; UNSPECIFIED
// becomes nullopt and a value this build does not know becomes its number, which the broker
// rejects like any other string outside the enum.
#pragma once

#include <string>

#include "riffle/v1/riffle.pb.h"
#include "server/broker/types.h"

namespace riffle::grpc_api {

broker::StreamRef FromProto(const v1::StreamRef& in);
broker::CreateStreamRequest FromProto(const v1::CreateStreamRequest& in);
broker::DeleteStreamRequest FromProto(const v1::DeleteStreamRequest& in);
broker::DescribeStreamRequest FromProto(const v1::DescribeStreamRequest& in);
broker::ListStreamsRequest FromProto(const v1::ListStreamsRequest& in);
broker::ListShardsRequest FromProto(const v1::ListShardsRequest& in);
broker::PutRecordRequest FromProto(const v1::PutRecordRequest& in);
broker::PutRecordsRequest FromProto(const v1::PutRecordsRequest& in);
broker::GetShardIteratorRequest FromProto(const v1::GetShardIteratorRequest& in);
broker::GetRecordsRequest FromProto(const v1::GetRecordsRequest& in);
broker::RetentionRequest FromProto(const v1::RetentionRequest& in);
broker::AddTagsRequest FromProto(const v1::AddTagsRequest& in);
broker::RemoveTagsRequest FromProto(const v1::RemoveTagsRequest& in);
broker::ListTagsRequest FromProto(const v1::ListTagsRequest& in);
broker::EnhancedMonitoringRequest FromProto(const v1::EnhancedMonitoringRequest& in);
broker::EncryptionRequest FromProto(const v1::EncryptionRequest& in);
broker::UpdateStreamModeRequest FromProto(const v1::UpdateStreamModeRequest& in);
broker::UpdateMaxRecordSizeRequest FromProto(const v1::UpdateMaxRecordSizeRequest& in);
broker::UpdateWarmThroughputRequest FromProto(const v1::UpdateStreamWarmThroughputRequest& in);
broker::UpdateAccountSettingsRequest FromProto(const v1::UpdateAccountSettingsRequest& in);
broker::ResourcePolicyRequest FromProto(const v1::PutResourcePolicyRequest& in);
broker::ResourcePolicyRequest FromProto(const v1::GetResourcePolicyRequest& in);
broker::ResourcePolicyRequest FromProto(const v1::DeleteResourcePolicyRequest& in);
broker::SplitShardRequest FromProto(const v1::SplitShardRequest& in);
broker::MergeShardsRequest FromProto(const v1::MergeShardsRequest& in);
broker::UpdateShardCountRequest FromProto(const v1::UpdateShardCountRequest& in);
broker::RegisterConsumerRequest FromProto(const v1::RegisterStreamConsumerRequest& in);
broker::ConsumerRef FromProto(const v1::ConsumerRef& in);
broker::ListConsumersRequest FromProto(const v1::ListStreamConsumersRequest& in);
broker::SubscribeRequest FromProto(const v1::SubscribeToShardRequest& in);
broker::GroupRef FromProto(const v1::ConsumerGroupRef& in);
broker::CreateGroupRequest FromProto(const v1::CreateConsumerGroupRequest& in);
broker::LeaseShardRequest FromProto(const v1::LeaseShardRequest& in);
broker::ReleaseLeaseRequest FromProto(const v1::ReleaseShardLeaseRequest& in);
broker::CheckpointRequest FromProto(const v1::CheckpointRequest& in);

// "PROVISIONED" -> PROVISIONED, "ON_DEMAND" -> ON_DEMAND, anything else -> UNSPECIFIED.
v1::StreamMode StreamModeToProto(const std::string& mode);

void ToProto(const broker::StreamDescription& in, v1::StreamDescription& out);
void ToProto(const broker::ListStreamsResult& in, v1::ListStreamsResponse& out);
void ToProto(const broker::ListShardsResult& in, v1::ListShardsResponse& out);
void ToProto(const broker::PutRecordResult& in, v1::PutRecordResponse& out);
void ToProto(const broker::PutRecordsResult& in, v1::PutRecordsResponse& out);
// Moves the record data: a response can carry 10 MiB.
void ToProto(broker::GetRecordsResult&& in, v1::GetRecordsResponse& out);
void ToProto(const broker::ListTagsResult& in, v1::ListTagsResponse& out);
void ToProto(const broker::EnhancedMonitoringResult& in, v1::EnhancedMonitoringResponse& out);
void ToProto(const broker::UpdateShardCountResult& in, v1::UpdateShardCountResponse& out);
void ToProto(const broker::DescribeLimitsResult& in, v1::DescribeLimitsResponse& out);
void ToProto(const broker::WarmThroughputResult& in, v1::UpdateStreamWarmThroughputResponse& out);
void ToProto(const broker::AccountSettings& in, v1::AccountSettings& out);
void ToProto(const broker::ClusterDescription& in, v1::DescribeClusterResponse& out);
void ToProto(const broker::ConsumerDescription& in, v1::Consumer& out);
void ToProto(const broker::ListConsumersResult& in, v1::ListStreamConsumersResponse& out);
// Moves the record data, as for GetRecords.
void ToProto(broker::SubscriptionEvent&& in, v1::SubscribeToShardEvent& out);
void ToProto(const broker::GroupDescription& in, v1::DescribeConsumerGroupResponse& out);
void ToProto(const broker::ShardLease& in, v1::LeaseShardResponse& out);

}  // namespace riffle::grpc_api
