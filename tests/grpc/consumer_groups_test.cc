// Consumer groups through the gRPC API and the C++ client, against the real riffled: the lease
// counter fences a worker whose lease was taken, across a restart of the daemon too.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kShard[] = "shardId-000000000000";

class ConsumerGroupsTest : public RiffledTest {
 protected:
  std::string Put(const std::string& data) {
    StatusOr<client::PutRecordResult> put =
        client().PutRecord("orders", {.data = data, .partition_key = "k"});
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return put.ok() ? put->sequence_number : "";
  }
};

TEST_F(ConsumerGroupsTest, StaleLeaseCannotMoveTheCheckpoint) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  const std::string first = Put("a");
  const std::string second = Put("b");
  ASSERT_TRUE(client().CreateConsumerGroup("orders", "billing").ok());
  StatusOr<client::ShardLease> stale =
      client().LeaseShard("orders", "billing", kShard, "worker-a", 1000ms);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  ASSERT_TRUE(client().Checkpoint("orders", "billing", kShard, stale->lease_counter, first).ok());

  StatusOr<client::ShardLease> refused =
      client().LeaseShard("orders", "billing", kShard, "worker-b", 1000ms);
  EXPECT_EQ(refused.status().code(), ErrorCode::kResourceInUse) << "the lease is still live";
  std::this_thread::sleep_for(1100ms);  // worker-a stalls past its lease
  StatusOr<client::ShardLease> taken =
      client().LeaseShard("orders", "billing", kShard, "worker-b", 10000ms);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_GT(taken->lease_counter, stale->lease_counter);
  EXPECT_EQ(taken->checkpoint, first);

  Status late = client().Checkpoint("orders", "billing", kShard, stale->lease_counter, second);
  EXPECT_EQ(late.code(), ErrorCode::kResourceInUse);
  EXPECT_NE(late.message().find("was taken over"), std::string::npos) << late.message();

  // The fence is durable: after a restart the old counter is still refused.
  StopRiffled();
  StartRiffled();
  EXPECT_EQ(client().Checkpoint("orders", "billing", kShard, stale->lease_counter, second).code(),
            ErrorCode::kResourceInUse);
  ASSERT_TRUE(client().Checkpoint("orders", "billing", kShard, taken->lease_counter, second).ok());
  StatusOr<client::ConsumerGroup> group = client().DescribeConsumerGroup("orders", "billing");
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  ASSERT_EQ(group->shards.size(), 1u);
  EXPECT_EQ(group->shards[0].checkpoint, second);
  EXPECT_EQ(group->shards[0].lease_owner, "worker-b");
  EXPECT_EQ(group->shards[0].lag_records, 0u);
}

TEST_F(ConsumerGroupsTest, UnknownGroupIsResourceNotFound) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  StatusOr<client::ConsumerGroup> group = client().DescribeConsumerGroup("orders", "nobody");
  EXPECT_EQ(group.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(group.status().message(),
            "Consumer group nobody of stream orders under account 000000000000 not found.");
}

}  // namespace
}  // namespace riffle::testing
