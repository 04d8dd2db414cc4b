// Broker <-> proto translation for calls forwarded to a peer: the inverse of
// server/api/grpc/convert.cc, so that the peer's broker gets the request this node's broker would
// have, and this node's caller gets the result the peer's broker gave. An absent optional member
// is sent unset and an absent result member comes back nullopt.
//
// Where riffle.proto cannot say what the broker type can, the peer's broker still judges the
// request as this node's would, only in other words:
// - A member Kinesis requires is sent empty when absent (the gRPC API has no null for it): the
//   broker then reports its length or range instead of "must not be null". An optional string
//   that is present but empty arrives absent, as the gRPC API reads an empty string.
// - A string outside an enum of the proto (stream mode, iterator and scaling type) is sent as
//   kOutsideEnum, which the peer's broker rejects as it would the string.
// - An int64 beyond an int32 member is sent as the nearest int32: every bound the broker checks
//   lies inside int32, so the value stays out of bounds.
#pragma once

#include "riffle/v1/riffle.pb.h"
#include "server/broker/types.h"

namespace riffle::cluster {

// An enum number no value of riffle.proto uses.
inline constexpr int kOutsideEnum = -1;

v1::CreateStreamRequest ToProto(const broker::CreateStreamRequest& in);
v1::DeleteStreamRequest ToProto(const broker::DeleteStreamRequest& in);
v1::DescribeStreamRequest ToProto(const broker::DescribeStreamRequest& in);
v1::DescribeStreamSummaryRequest ToProto(const broker::StreamRef& in);
v1::ListStreamsRequest ToProto(const broker::ListStreamsRequest& in);
v1::ListShardsRequest ToProto(const broker::ListShardsRequest& in);
v1::PutRecordRequest ToProto(const broker::PutRecordRequest& in);
v1::PutRecordsRequest ToProto(const broker::PutRecordsRequest& in);
v1::GetShardIteratorRequest ToProto(const broker::GetShardIteratorRequest& in);
v1::GetRecordsRequest ToProto(const broker::GetRecordsRequest& in);
v1::RetentionRequest ToProto(const broker::RetentionRequest& in);
v1::AddTagsRequest ToProto(const broker::AddTagsRequest& in);
v1::RemoveTagsRequest ToProto(const broker::RemoveTagsRequest& in);
v1::ListTagsRequest ToProto(const broker::ListTagsRequest& in);
v1::EnhancedMonitoringRequest ToProto(const broker::EnhancedMonitoringRequest& in);
v1::EncryptionRequest ToProto(const broker::EncryptionRequest& in);
v1::UpdateStreamModeRequest ToProto(const broker::UpdateStreamModeRequest& in);
v1::UpdateMaxRecordSizeRequest ToProto(const broker::UpdateMaxRecordSizeRequest& in);
v1::UpdateStreamWarmThroughputRequest ToProto(const broker::UpdateWarmThroughputRequest& in);
v1::UpdateAccountSettingsRequest ToProto(const broker::UpdateAccountSettingsRequest& in);
v1::PutResourcePolicyRequest ToProto(const broker::ResourcePolicyRequest& in);
v1::SplitShardRequest ToProto(const broker::SplitShardRequest& in);
v1::MergeShardsRequest ToProto(const broker::MergeShardsRequest& in);
v1::UpdateShardCountRequest ToProto(const broker::UpdateShardCountRequest& in);
v1::RegisterStreamConsumerRequest ToProto(const broker::RegisterConsumerRequest& in);
v1::ConsumerRef ToProto(const broker::ConsumerRef& in);
v1::ListStreamConsumersRequest ToProto(const broker::ListConsumersRequest& in);
v1::ConsumerGroupRef ToProto(const broker::GroupRef& in);
v1::CreateConsumerGroupRequest ToProto(const broker::CreateGroupRequest& in);
v1::LeaseShardRequest ToProto(const broker::LeaseShardRequest& in);
v1::ReleaseShardLeaseRequest ToProto(const broker::ReleaseLeaseRequest& in);
v1::CheckpointRequest ToProto(const broker::CheckpointRequest& in);

broker::StreamDescription FromProto(const v1::StreamDescription& in);
broker::ListStreamsResult FromProto(const v1::ListStreamsResponse& in);
broker::ListShardsResult FromProto(const v1::ListShardsResponse& in);
broker::PutRecordResult FromProto(const v1::PutRecordResponse& in);
broker::PutRecordsResult FromProto(const v1::PutRecordsResponse& in);
// Moves the record data: a response can carry 10 MiB.
broker::GetRecordsResult FromProto(v1::GetRecordsResponse&& in);
broker::ListTagsResult FromProto(const v1::ListTagsResponse& in);
broker::EnhancedMonitoringResult FromProto(const v1::EnhancedMonitoringResponse& in);
broker::UpdateShardCountResult FromProto(const v1::UpdateShardCountResponse& in);
broker::ConsumerDescription FromProto(const v1::Consumer& in);
broker::ListConsumersResult FromProto(const v1::ListStreamConsumersResponse& in);
broker::DescribeLimitsResult FromProto(const v1::DescribeLimitsResponse& in);
broker::WarmThroughputResult FromProto(const v1::UpdateStreamWarmThroughputResponse& in);
broker::AccountSettings FromProto(const v1::AccountSettings& in);
broker::GroupDescription FromProto(const v1::DescribeConsumerGroupResponse& in);
broker::ShardLease FromProto(const v1::LeaseShardResponse& in);

}  // namespace riffle::cluster
