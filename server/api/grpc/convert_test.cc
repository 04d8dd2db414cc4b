#include "server/api/grpc/convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace riffle::grpc_api {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;
using ::testing::Pair;

TEST(GrpcConvertTest, EmptyStreamNameAndArnAreAbsent) {
  v1::DeleteStreamRequest request;
  broker::DeleteStreamRequest out = FromProto(request);
  EXPECT_EQ(out.stream.name, std::nullopt);
  EXPECT_EQ(out.stream.arn, std::nullopt);

  request.mutable_stream()->set_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s");
  out = FromProto(request);
  EXPECT_EQ(out.stream.name, std::nullopt);
  EXPECT_THAT(out.stream.arn,
              Optional(std::string("arn:aws:kinesis:us-east-1:000000000000:stream/s")));
}

TEST(GrpcConvertTest, CreateStreamPassesUnsetOptionalsAsAbsent) {
  v1::CreateStreamRequest request;
  request.set_stream_name("s");
  broker::CreateStreamRequest out = FromProto(request);
  EXPECT_THAT(out.stream_name, Optional(std::string("s")));
  EXPECT_EQ(out.shard_count, std::nullopt);
  EXPECT_EQ(out.stream_mode, std::nullopt);

  request.set_shard_count(0);
  request.set_mode(v1::ON_DEMAND);
  (*request.mutable_tags())["team"] = "data";
  out = FromProto(request);
  EXPECT_THAT(out.shard_count, Optional(0));
  EXPECT_THAT(out.stream_mode, Optional(std::string("ON_DEMAND")));
  EXPECT_THAT(out.tags, ElementsAre(Pair("team", "data")));
}

TEST(GrpcConvertTest, RequiredStringsArePassedEvenWhenEmpty) {
  v1::PutRecordRequest request;
  broker::PutRecordRequest out = FromProto(request);
  EXPECT_THAT(out.data, Optional(std::string()));
  EXPECT_THAT(out.partition_key, Optional(std::string()));
  EXPECT_EQ(out.explicit_hash_key, std::nullopt);
  EXPECT_EQ(out.sequence_number_for_ordering, std::nullopt);
}

TEST(GrpcConvertTest, IteratorTypesBecomeKinesisStrings) {
  v1::GetShardIteratorRequest request;
  EXPECT_EQ(FromProto(request).shard_iterator_type, std::nullopt);
  const std::pair<v1::ShardIteratorType, const char*> cases[] = {
      {v1::AT_SEQUENCE_NUMBER, "AT_SEQUENCE_NUMBER"},
      {v1::AFTER_SEQUENCE_NUMBER, "AFTER_SEQUENCE_NUMBER"},
      {v1::TRIM_HORIZON, "TRIM_HORIZON"},
      {v1::LATEST, "LATEST"},
      {v1::AT_TIMESTAMP, "AT_TIMESTAMP"},
  };
  for (const auto& [type, name] : cases) {
    request.set_type(type);
    EXPECT_THAT(FromProto(request).shard_iterator_type, Optional(std::string(name)));
  }
  request.set_type(static_cast<v1::ShardIteratorType>(42));
  EXPECT_THAT(FromProto(request).shard_iterator_type, Optional(std::string("42")));
}

TEST(GrpcConvertTest, TimestampIsPresentOnlyWhenSet) {
  v1::GetShardIteratorRequest request;
  EXPECT_EQ(FromProto(request).timestamp_ms, std::nullopt);
  request.set_timestamp_ms(0);
  EXPECT_THAT(FromProto(request).timestamp_ms, Optional(0));
}

TEST(GrpcConvertTest, StreamDescriptionCarriesEveryField) {
  broker::StreamDescription in;
  in.stream_name = "s";
  in.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
  in.stream_status = "ACTIVE";
  in.stream_mode = "ON_DEMAND";
  in.shards.push_back(broker::ShardDescription{
      .shard_id = "shardId-000000000002",
      .parent_shard_id = "shardId-000000000000",
      .adjacent_parent_shard_id = std::nullopt,
      .hash_key_range = {"0", "170141183460469231731687303715884105727"},
      .starting_sequence_number = "100000000000000000002000000000000000000000",
      .ending_sequence_number = std::nullopt,
  });
  in.has_more_shards = true;
  in.retention_period_hours = 48;
  in.creation_time_ms = 1700000000123;
  in.open_shard_count = 1;

  v1::StreamDescription out;
  ToProto(in, out);
  EXPECT_EQ(out.stream_name(), "s");
  EXPECT_EQ(out.stream_arn(), in.stream_arn);
  EXPECT_EQ(out.stream_status(), "ACTIVE");
  EXPECT_EQ(out.mode(), v1::ON_DEMAND);
  ASSERT_EQ(out.shards_size(), 1);
  EXPECT_EQ(out.shards(0).shard_id(), "shardId-000000000002");
  EXPECT_EQ(out.shards(0).parent_shard_id(), "shardId-000000000000");
  EXPECT_EQ(out.shards(0).adjacent_parent_shard_id(), "");
  EXPECT_EQ(out.shards(0).hash_key_range().ending_hash_key(),
            "170141183460469231731687303715884105727");
  EXPECT_EQ(out.shards(0).ending_sequence_number(), "");
  EXPECT_TRUE(out.has_more_shards());
  EXPECT_EQ(out.retention_period_hours(), 48);
  EXPECT_EQ(out.creation_time_ms(), 1700000000123);
  EXPECT_EQ(out.encryption_type(), "NONE");
  EXPECT_EQ(out.open_shard_count(), 1);
}

TEST(GrpcConvertTest, FailedPutRecordsEntryHasNoShardOrSequenceNumber) {
  broker::PutRecordsResult in;
  in.failed_record_count = 1;
  in.records.push_back({.shard_id = "shardId-000000000000",
                        .sequence_number = "1",
                        .error_code = std::nullopt,
                        .error_message = std::nullopt});
  in.records.push_back({.shard_id = std::nullopt,
                        .sequence_number = std::nullopt,
                        .error_code = "ProvisionedThroughputExceededException",
                        .error_message = "Rate exceeded"});
  v1::PutRecordsResponse out;
  ToProto(in, out);
  EXPECT_EQ(out.failed_record_count(), 1);
  ASSERT_EQ(out.records_size(), 2);
  EXPECT_EQ(out.records(0).sequence_number(), "1");
  EXPECT_EQ(out.records(0).error_code(), "");
  EXPECT_EQ(out.records(1).shard_id(), "");
  EXPECT_EQ(out.records(1).error_code(), "ProvisionedThroughputExceededException");
}

TEST(GrpcConvertTest, ClosedShardEndHasChildShardsAndNoNextIterator) {
  broker::GetRecordsResult in;
  broker::Record record;
  record.sequence_number = "7";
  record.arrival_time_ms = 5;
  record.data = "d";
  record.partition_key = "k";
  in.records.push_back(std::move(record));
  in.child_shards.push_back({.shard_id = "shardId-000000000001",
                             .parent_shards = {"shardId-000000000000"},
                             .hash_key_range = {"0", "9"}});
  v1::GetRecordsResponse out;
  ToProto(std::move(in), out);
  ASSERT_EQ(out.records_size(), 1);
  EXPECT_EQ(out.records(0).data(), "d");
  EXPECT_EQ(out.records(0).partition_key(), "k");
  EXPECT_EQ(out.records(0).arrival_time_ms(), 5);
  EXPECT_EQ(out.next_shard_iterator(), "");
  ASSERT_EQ(out.child_shards_size(), 1);
  EXPECT_THAT(out.child_shards(0).parent_shards(), ElementsAre("shardId-000000000000"));
}

TEST(GrpcConvertTest, ListStreamsFillsNamesAndSummariesInParallel) {
  broker::ListStreamsResult in;
  in.streams.push_back({.stream_name = "a",
                        .stream_arn = "arn-a",
                        .stream_status = "ACTIVE",
                        .stream_mode = "PROVISIONED",
                        .creation_time_ms = 1});
  in.streams.push_back({.stream_name = "b",
                        .stream_arn = "arn-b",
                        .stream_status = "DELETING",
                        .stream_mode = "ON_DEMAND",
                        .creation_time_ms = 2});
  in.has_more_streams = true;
  in.next_token = "token";
  v1::ListStreamsResponse out;
  ToProto(in, out);
  EXPECT_THAT(out.stream_names(), ElementsAre("a", "b"));
  ASSERT_EQ(out.summaries_size(), 2);
  EXPECT_EQ(out.summaries(0).mode(), v1::PROVISIONED);
  EXPECT_EQ(out.summaries(1).stream_status(), "DELETING");
  EXPECT_TRUE(out.has_more_streams());
  EXPECT_EQ(out.next_token(), "token");
}

TEST(GrpcConvertTest, ReshardRequestsPassRequiredMembersEvenWhenEmpty) {
  broker::SplitShardRequest split = FromProto(v1::SplitShardRequest());
  EXPECT_THAT(split.shard_to_split, Optional(std::string()));
  EXPECT_THAT(split.new_starting_hash_key, Optional(std::string()));
  broker::MergeShardsRequest merge = FromProto(v1::MergeShardsRequest());
  EXPECT_THAT(merge.shard_to_merge, Optional(std::string()));
  EXPECT_THAT(merge.adjacent_shard_to_merge, Optional(std::string()));
  broker::UpdateShardCountRequest scale = FromProto(v1::UpdateShardCountRequest());
  EXPECT_THAT(scale.target_shard_count, Optional(0));
  EXPECT_EQ(scale.scaling_type, std::nullopt);
}

TEST(GrpcConvertTest, SplitShardCarriesShardAndHashKey) {
  v1::SplitShardRequest request;
  request.mutable_stream()->set_name("s");
  request.set_shard_to_split("shardId-000000000001");
  request.set_new_starting_hash_key("170141183460469231731687303715884105728");
  broker::SplitShardRequest out = FromProto(request);
  EXPECT_THAT(out.stream.name, Optional(std::string("s")));
  EXPECT_THAT(out.shard_to_split, Optional(std::string("shardId-000000000001")));
  EXPECT_THAT(out.new_starting_hash_key,
              Optional(std::string("170141183460469231731687303715884105728")));
}

TEST(GrpcConvertTest, ScalingTypeBecomesKinesisStringAndUnknownValuesTheirNumber) {
  v1::UpdateShardCountRequest request;
  request.set_target_shard_count(4);
  request.set_scaling_type(v1::UNIFORM_SCALING);
  broker::UpdateShardCountRequest out = FromProto(request);
  EXPECT_THAT(out.target_shard_count, Optional(4));
  EXPECT_THAT(out.scaling_type, Optional(std::string("UNIFORM_SCALING")));
  request.set_scaling_type(static_cast<v1::ScalingType>(7));
  EXPECT_THAT(FromProto(request).scaling_type, Optional(std::string("7")));
}

TEST(GrpcConvertTest, UpdateShardCountResultCarriesEveryField) {
  v1::UpdateShardCountResponse out;
  ToProto(broker::UpdateShardCountResult{"s", "arn:aws:kinesis:us-east-1:000000000000:stream/s", 2,
                                         4},
          out);
  EXPECT_EQ(out.stream_name(), "s");
  EXPECT_EQ(out.stream_arn(), "arn:aws:kinesis:us-east-1:000000000000:stream/s");
  EXPECT_EQ(out.current_shard_count(), 2);
  EXPECT_EQ(out.target_shard_count(), 4);
}

TEST(GrpcConvertTest, ConsumerRefPassesOnlyTheMembersGiven) {
  v1::ConsumerRef ref;
  broker::ConsumerRef out = FromProto(ref);
  EXPECT_EQ(out.stream_arn, std::nullopt);
  EXPECT_EQ(out.consumer_name, std::nullopt);
  EXPECT_EQ(out.consumer_arn, std::nullopt);
  const std::string arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1";
  ref.set_consumer_arn(arn);
  out = FromProto(ref);
  EXPECT_EQ(out.consumer_name, std::nullopt);
  EXPECT_THAT(out.consumer_arn, Optional(arn));
}

TEST(GrpcConvertTest, RegisterConsumerPassesRequiredMembersEvenWhenEmpty) {
  broker::RegisterConsumerRequest out = FromProto(v1::RegisterStreamConsumerRequest());
  EXPECT_THAT(out.stream_arn, Optional(std::string()));
  EXPECT_THAT(out.consumer_name, Optional(std::string()));
}

TEST(GrpcConvertTest, SubscribeLeavesAnUnsetStartingPositionAbsent) {
  v1::SubscribeToShardRequest request;
  request.set_shard_id("shardId-000000000000");
  broker::SubscribeRequest out = FromProto(request);
  EXPECT_THAT(out.consumer_arn, Optional(std::string()));
  EXPECT_EQ(out.starting_position, std::nullopt);

  request.mutable_starting_position()->set_type(v1::AT_TIMESTAMP);
  request.mutable_starting_position()->set_timestamp_ms(1700000000000);
  out = FromProto(request);
  ASSERT_TRUE(out.starting_position.has_value());
  EXPECT_THAT(out.starting_position->type, Optional(std::string("AT_TIMESTAMP")));
  EXPECT_EQ(out.starting_position->sequence_number, std::nullopt);
  EXPECT_THAT(out.starting_position->timestamp_ms, Optional(int64_t{1700000000000}));
}

TEST(GrpcConvertTest, ShardEndEventHasChildShardsAndNoContinuation) {
  broker::SubscriptionEvent event;
  event.shard_ended = true;
  event.child_shards.push_back({"shardId-000000000001",
                                {"shardId-000000000000"},
                                {"0", "170141183460469231731687303715884105727"}});
  v1::SubscribeToShardEvent out;
  ToProto(std::move(event), out);
  EXPECT_EQ(out.continuation_sequence_number(), "");
  ASSERT_EQ(out.child_shards_size(), 1);
  EXPECT_EQ(out.child_shards(0).shard_id(), "shardId-000000000001");
  EXPECT_THAT(out.child_shards(0).parent_shards(), ElementsAre("shardId-000000000000"));
  EXPECT_EQ(out.child_shards(0).hash_key_range().ending_hash_key(),
            "170141183460469231731687303715884105727");
}

TEST(GrpcConvertTest, ClusterDescriptionCarriesNodesShardsAndOnlyKnownEnds) {
  broker::ClusterDescription in;
  in.mode = "cluster";
  in.cluster_name = "prod";
  in.node_id = "n2";
  in.nodes.push_back({.node_id = "n1",
                      .grpc_addr = "10.0.0.1:50051",
                      .kinesis_addr = "10.0.0.1:4567",
                      .is_controller = true,
                      .draining = false,
                      .shards_owned = 3});
  broker::ClusterNodeInfo draining_node;
  draining_node.node_id = "n2";
  draining_node.draining = true;
  in.nodes.push_back(draining_node);
  in.shards.push_back({.stream_name = "orders",
                       .shard_id = "shardId-000000000000",
                       .stream_id = 7,
                       .ordinal = 0,
                       .owner = "n1",
                       .epoch = 3,
                       .moving_to = "n2",
                       .owner_alive = true,
                       .committed_end = std::nullopt,
                       .replicas = {"n1", "n2", "n3"},
                       .in_sync = {"n1", "n3"}});
  broker::ClusterShardInfo owned_here;
  owned_here.stream_name = "orders";
  owned_here.shard_id = "shardId-000000000001";
  owned_here.owner = "n2";
  owned_here.epoch = 1;
  owned_here.committed_end = 0;
  in.shards.push_back(owned_here);
  v1::DescribeClusterResponse out;
  ToProto(in, out);
  EXPECT_EQ(out.mode(), "cluster");
  EXPECT_EQ(out.cluster_name(), "prod");
  EXPECT_EQ(out.node_id(), "n2");
  ASSERT_EQ(out.nodes_size(), 2);
  EXPECT_EQ(out.nodes(0).node_id(), "n1");
  EXPECT_EQ(out.nodes(0).grpc_addr(), "10.0.0.1:50051");
  EXPECT_EQ(out.nodes(0).kinesis_addr(), "10.0.0.1:4567");
  EXPECT_TRUE(out.nodes(0).is_controller());
  EXPECT_FALSE(out.nodes(0).draining());
  EXPECT_EQ(out.nodes(0).shards_owned(), 3);
  EXPECT_FALSE(out.nodes(1).is_controller());
  EXPECT_TRUE(out.nodes(1).draining());
  ASSERT_EQ(out.shards_size(), 2);
  EXPECT_EQ(out.shards(0).stream_name(), "orders");
  EXPECT_EQ(out.shards(0).shard_id(), "shardId-000000000000");
  EXPECT_EQ(out.shards(0).owner(), "n1");
  EXPECT_EQ(out.shards(0).epoch(), 3u);
  EXPECT_EQ(out.shards(0).moving_to(), "n2");
  EXPECT_THAT(out.shards(0).replicas(), ElementsAre("n1", "n2", "n3"));
  EXPECT_THAT(out.shards(0).in_sync(), ElementsAre("n1", "n3"));
  EXPECT_TRUE(out.shards(1).replicas().empty());
  EXPECT_TRUE(out.shards(0).owner_alive());
  // An end the node does not know stays absent; a known end of 0 (an empty shard) is sent.
  EXPECT_FALSE(out.shards(0).has_committed_end());
  EXPECT_FALSE(out.shards(1).owner_alive());
  ASSERT_TRUE(out.shards(1).has_committed_end());
  EXPECT_EQ(out.shards(1).committed_end(), 0u);
}

}  // namespace
}  // namespace riffle::grpc_api
