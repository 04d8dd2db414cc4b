// Stream administration through the C++ client against the real riffled.
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class GrpcStreamsTest : public RiffledTest {};

// 2^128 - 1, the last hash key.
constexpr char kMaxHashKey[] = "340282366920938463463374607431768211455";

TEST_F(GrpcStreamsTest, CreateDescribeListAndDeleteAStream) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 3}).ok());

  StatusOr<client::StreamDescription> description = client().DescribeStream("orders");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  EXPECT_EQ(description->stream_name, "orders");
  EXPECT_EQ(description->stream_arn, "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
  EXPECT_EQ(description->stream_status, "ACTIVE");
  EXPECT_EQ(description->mode, client::StreamMode::kProvisioned);
  EXPECT_EQ(description->retention_period_hours, 24);
  EXPECT_EQ(description->open_shard_count, 3);
  ASSERT_EQ(description->shards.size(), 3u);
  EXPECT_EQ(description->shards[0].shard_id, "shardId-000000000000");
  EXPECT_EQ(description->shards[0].hash_key_range.starting_hash_key, "0");
  EXPECT_EQ(description->shards[2].hash_key_range.ending_hash_key, kMaxHashKey);
  for (const client::Shard& shard : description->shards) {
    EXPECT_EQ(shard.ending_sequence_number, "") << shard.shard_id << " should be open";
  }

  StatusOr<std::vector<client::StreamSummary>> streams = client().ListStreams();
  ASSERT_TRUE(streams.ok()) << streams.status().ToString();
  ASSERT_EQ(streams->size(), 1u);
  EXPECT_EQ((*streams)[0].stream_name, "orders");

  ASSERT_TRUE(client().DeleteStream("orders").ok());
  // Deletion may pass through DELETING; the stream must be gone within the deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  Status gone;
  while (std::chrono::steady_clock::now() < deadline) {
    gone = client().DescribeStream("orders").status();
    if (gone.code() == ErrorCode::kResourceNotFound) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(gone.code(), ErrorCode::kResourceNotFound) << gone.ToString();
}

TEST_F(GrpcStreamsTest, CreatingATakenNameIsResourceInUse) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  Status again = client().CreateStream("orders", {.shard_count = 1});
  EXPECT_EQ(again.code(), ErrorCode::kResourceInUse) << again.ToString();
  EXPECT_EQ(again.message(), "Stream orders under account 000000000000 already exists.");
}

TEST_F(GrpcStreamsTest, OnDemandStreamReportsItsMode) {
  ASSERT_TRUE(CreateActiveStream("events", {.mode = client::StreamMode::kOnDemand}).ok());
  StatusOr<client::StreamDescription> description = client().DescribeStream("events");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  EXPECT_EQ(description->mode, client::StreamMode::kOnDemand);
  EXPECT_GE(description->shards.size(), 1u);
}

TEST_F(GrpcStreamsTest, DescribeAndListShardsReturnEveryShardBeyondOnePage) {
  // DescribeStream returns at most 100 shards per call; the client follows the pages.
  ASSERT_TRUE(CreateActiveStream("wide", {.shard_count = 130}).ok());
  StatusOr<client::StreamDescription> description = client().DescribeStream("wide");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  ASSERT_EQ(description->shards.size(), 130u);
  EXPECT_EQ(description->shards[129].shard_id, "shardId-000000000129");
  EXPECT_EQ(description->shards[129].hash_key_range.ending_hash_key, kMaxHashKey);

  StatusOr<std::vector<client::Shard>> shards = client().ListShards("wide");
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 130u);
  for (size_t i = 1; i < shards->size(); ++i) {
    EXPECT_LT((*shards)[i - 1].shard_id, (*shards)[i].shard_id);
  }
}

TEST_F(GrpcStreamsTest, ListStreamsReturnsEveryStreamInNameOrder) {
  for (const char* name : {"charlie", "alpha", "bravo"}) {
    ASSERT_TRUE(CreateActiveStream(name, {.shard_count = 1}).ok()) << name;
  }
  StatusOr<std::vector<client::StreamSummary>> streams = client().ListStreams();
  ASSERT_TRUE(streams.ok()) << streams.status().ToString();
  std::vector<std::string> names;
  for (const client::StreamSummary& stream : *streams) {
    names.push_back(stream.stream_name);
    EXPECT_EQ(stream.stream_status, "ACTIVE");
  }
  EXPECT_THAT(names, ElementsAre("alpha", "bravo", "charlie"));
}

TEST_F(GrpcStreamsTest, StreamArnWorksWhereANameDoes) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  StatusOr<client::StreamDescription> description =
      client().DescribeStream("arn:aws:kinesis:us-east-1:000000000000:stream/orders");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  EXPECT_EQ(description->stream_name, "orders");
}

TEST_F(GrpcStreamsTest, RetentionPeriodGoesUpAndDown) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  ASSERT_TRUE(client().IncreaseStreamRetentionPeriod("orders", 72).ok());
  StatusOr<client::StreamDescription> description = client().DescribeStream("orders");
  ASSERT_TRUE(description.ok());
  EXPECT_EQ(description->retention_period_hours, 72);

  ASSERT_TRUE(client().DecreaseStreamRetentionPeriod("orders", 48).ok());
  description = client().DescribeStream("orders");
  ASSERT_TRUE(description.ok());
  EXPECT_EQ(description->retention_period_hours, 48);

  Status too_short = client().DecreaseStreamRetentionPeriod("orders", 23);
  EXPECT_EQ(too_short.code(), ErrorCode::kInvalidArgument) << too_short.ToString();
}

TEST_F(GrpcStreamsTest, TagsCanBeAddedListedAndRemoved) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1, .tags = {{"team", "data"}}}).ok());
  ASSERT_TRUE(client().AddTagsToStream("orders", {{"env", "test"}, {"owner", "riffle"}}).ok());
  StatusOr<std::map<std::string, std::string>> tags = client().ListTagsForStream("orders");
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  EXPECT_THAT(*tags,
              ElementsAre(Pair("env", "test"), Pair("owner", "riffle"), Pair("team", "data")));

  ASSERT_TRUE(client().RemoveTagsFromStream("orders", {"env", "team"}).ok());
  tags = client().ListTagsForStream("orders");
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  EXPECT_THAT(*tags, ElementsAre(Pair("owner", "riffle")));
}

TEST_F(GrpcStreamsTest, StreamsSurviveARestart) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  StopRiffled();
  StartRiffled();
  ASSERT_FALSE(HasFatalFailure());
  StatusOr<client::StreamDescription> description = client().DescribeStream("orders");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  EXPECT_EQ(description->shards.size(), 2u);
}

}  // namespace
}  // namespace riffle::testing
