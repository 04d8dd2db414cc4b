// Enhanced fan-out through the C++ client against the real riffled: consumer registration and
// its errors, DeleteStream of a stream with consumers, and SubscribeToShard: backlog, live
// records, continuation sequence numbers, the end of a split shard, and a shutdown while a
// subscription is open.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr char kShard0[] = "shardId-000000000000";
// 2^127: splits shard 0 of a one-shard stream in two halves.
constexpr char kUpperHalfStart[] = "170141183460469231731687303715884105728";

std::vector<std::string> DataOf(const std::vector<client::Record>& records) {
  std::vector<std::string> data;
  for (const client::Record& record : records) {
    data.push_back(record.data);
  }
  return data;
}

class GrpcConsumerTest : public RiffledTest {
 protected:
  // A one-shard stream with consumer "c"; returns the consumer's ARN.
  std::string StreamWithConsumer(const std::string& stream) {
    Status created = CreateActiveStream(stream, {.shard_count = 1});
    EXPECT_TRUE(created.ok()) << created.ToString();
    StatusOr<client::Consumer> consumer = client().RegisterStreamConsumer(stream, "c");
    EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
    return consumer.ok() ? consumer->consumer_arn : "";
  }

  std::vector<std::string> PutEach(const std::string& stream,
                                   const std::vector<std::string>& data) {
    std::vector<std::string> sequence_numbers;
    for (const std::string& item : data) {
      StatusOr<client::PutRecordResult> put =
          client().PutRecord(stream, {.data = item, .partition_key = "k"});
      EXPECT_TRUE(put.ok()) << put.status().ToString();
      sequence_numbers.push_back(put.ok() ? put->sequence_number : "");
    }
    return sequence_numbers;
  }

  // Reads events until `count` records came or `deadline` passed; returns the records and keeps
  // the last event in `last`.
  static std::vector<client::Record> ReadRecords(client::ShardSubscription& subscription,
                                                 size_t count, std::chrono::milliseconds deadline,
                                                 client::SubscriptionEvent& last) {
    std::vector<client::Record> records;
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (records.size() < count && std::chrono::steady_clock::now() < until &&
           subscription.Next(last)) {
      records.insert(records.end(), last.records.begin(), last.records.end());
    }
    return records;
  }
};

TEST_F(GrpcConsumerTest, RegisterDescribeListAndDeregister) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  StatusOr<client::StreamDescription> stream = client().DescribeStream("orders");
  ASSERT_TRUE(stream.ok());

  StatusOr<client::Consumer> registered = client().RegisterStreamConsumer("orders", "billing");
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  EXPECT_EQ(registered->consumer_name, "billing");
  EXPECT_EQ(registered->consumer_status, "ACTIVE");
  EXPECT_THAT(registered->consumer_arn, StartsWith(stream->stream_arn + "/consumer/billing:"));
  EXPECT_GT(registered->creation_time_ms, 0);
  ASSERT_TRUE(client().RegisterStreamConsumer(stream->stream_arn, "audit").ok());

  // By name on the stream, and by ARN alone.
  StatusOr<client::Consumer> by_name = client().DescribeStreamConsumer("orders", "billing");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->consumer_arn, registered->consumer_arn);
  EXPECT_EQ(by_name->stream_arn, stream->stream_arn);
  StatusOr<client::Consumer> by_arn = client().DescribeStreamConsumer("", registered->consumer_arn);
  ASSERT_TRUE(by_arn.ok()) << by_arn.status().ToString();
  EXPECT_EQ(by_arn->consumer_name, "billing");
  EXPECT_EQ(by_arn->creation_time_ms, registered->creation_time_ms);

  StatusOr<std::vector<client::Consumer>> listed = client().ListStreamConsumers("orders");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].consumer_name, "billing");
  EXPECT_EQ((*listed)[1].consumer_name, "audit");
  StatusOr<client::StreamDescription> described = client().DescribeStream("orders");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->consumer_count, 2);

  ASSERT_TRUE(client().DeregisterStreamConsumer("orders", "billing").ok());
  ASSERT_TRUE(client().DeregisterStreamConsumer("", listed->back().consumer_arn).ok());
  listed = client().ListStreamConsumers("orders");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(GrpcConsumerTest, RegisteringATakenNameIsResourceInUse) {
  StreamWithConsumer("orders");
  StatusOr<client::Consumer> again = client().RegisterStreamConsumer("orders", "c");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kResourceInUse);
  EXPECT_THAT(again.status().message(), HasSubstr("already exists"));
}

TEST_F(GrpcConsumerTest, UnknownConsumerIsResourceNotFound) {
  const std::string arn = StreamWithConsumer("orders");
  StatusOr<client::Consumer> described = client().DescribeStreamConsumer("orders", "nobody");
  ASSERT_FALSE(described.ok());
  EXPECT_EQ(described.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_THAT(described.status().message(), HasSubstr("nobody"));
  EXPECT_EQ(client().DeregisterStreamConsumer("orders", "nobody").code(),
            ErrorCode::kResourceNotFound);

  ASSERT_TRUE(client().DeregisterStreamConsumer("orders", "c").ok());
  // The deregistered consumer's ARN names nothing any more, for a subscription either.
  EXPECT_EQ(client().DescribeStreamConsumer("", arn).status().code(),
            ErrorCode::kResourceNotFound);
  StatusOr<std::unique_ptr<client::ShardSubscription>> subscription =
      client().SubscribeToShard(arn, kShard0, client::IteratorPosition::TrimHorizon());
  ASSERT_FALSE(subscription.ok());
  EXPECT_EQ(subscription.status().code(), ErrorCode::kResourceNotFound);
}

TEST_F(GrpcConsumerTest, DeletingAStreamWithConsumersNeedsEnforceConsumerDeletion) {
  StreamWithConsumer("orders");
  Status refused = client().DeleteStream("orders");
  EXPECT_EQ(refused.code(), ErrorCode::kResourceInUse);
  EXPECT_THAT(refused.message(), HasSubstr("EnforceConsumerDeletion"));
  EXPECT_TRUE(client().DescribeStream("orders").ok());

  Status deleted = client().DeleteStream("orders", {.enforce_consumer_deletion = true});
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (client().DescribeStream("orders").ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(client().DescribeStream("orders").status().code(), ErrorCode::kResourceNotFound);
}

TEST_F(GrpcConsumerTest, SubscribeErrorsComeBackBeforeAnyEvent) {
  const std::string arn = StreamWithConsumer("orders");
  StatusOr<std::unique_ptr<client::ShardSubscription>> unknown_shard = client().SubscribeToShard(
      arn, "shardId-000000000007", client::IteratorPosition::TrimHorizon());
  ASSERT_FALSE(unknown_shard.ok());
  EXPECT_EQ(unknown_shard.status().code(), ErrorCode::kResourceNotFound);
  // AT_SEQUENCE_NUMBER needs a sequence number: the broker's InvalidArgument, unchanged.
  StatusOr<std::unique_ptr<client::ShardSubscription>> no_sequence =
      client().SubscribeToShard(arn, kShard0, client::IteratorPosition::AtSequenceNumber(""));
  ASSERT_FALSE(no_sequence.ok());
  EXPECT_EQ(no_sequence.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(no_sequence.status().message(), HasSubstr("SequenceNumber"));
}

TEST_F(GrpcConsumerTest, SubscriptionDeliversTheBacklogThenARecordPutWhileSubscribed) {
  const std::string arn = StreamWithConsumer("orders");
  const std::vector<std::string> backlog = PutEach("orders", {"r0", "r1", "r2"});

  StatusOr<std::unique_ptr<client::ShardSubscription>> subscription =
      client().SubscribeToShard(arn, kShard0, client::IteratorPosition::TrimHorizon());
  ASSERT_TRUE(subscription.ok()) << subscription.status().ToString();
  client::SubscriptionEvent last;
  std::vector<client::Record> records =
      ReadRecords(**subscription, 3, std::chrono::seconds(10), last);
  ASSERT_THAT(DataOf(records), ElementsAre("r0", "r1", "r2"));
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].sequence_number, backlog[i]);
    EXPECT_EQ(records[i].partition_key, "k");
  }
  EXPECT_EQ(last.continuation_sequence_number, backlog.back());

  const auto put_at = std::chrono::steady_clock::now();
  const std::string live = PutEach("orders", {"live"}).front();
  records = ReadRecords(**subscription, 1, std::chrono::seconds(10), last);
  const auto latency = std::chrono::steady_clock::now() - put_at;
  ASSERT_THAT(DataOf(records), ElementsAre("live"));
  EXPECT_LT(latency, std::chrono::seconds(2));
  EXPECT_EQ(records[0].sequence_number, live);
  EXPECT_EQ(last.continuation_sequence_number, live);
  EXPECT_FALSE(last.shard_ended());

  (*subscription)->Cancel();
  while ((*subscription)->Next(last)) {
  }
  EXPECT_TRUE((*subscription)->status().ok()) << (*subscription)->status().ToString();
}

// Nothing polls and the heartbeat is 5 s away, so only the append's wake-up can deliver a
// record within 2 s.
TEST_F(GrpcConsumerTest, AnAppendWakesAnIdleSubscription) {
  const std::string arn = StreamWithConsumer("orders");
  StatusOr<std::unique_ptr<client::ShardSubscription>> subscription =
      client().SubscribeToShard(arn, kShard0, client::IteratorPosition::Latest());
  ASSERT_TRUE(subscription.ok()) << subscription.status().ToString();
  client::SubscriptionEvent last;
  ASSERT_TRUE((*subscription)->Next(last));  // the first event: the subscription is open
  for (const std::string data : {"one", "two"}) {
    const auto put_at = std::chrono::steady_clock::now();
    const std::string sequence_number = PutEach("orders", {data}).front();
    std::vector<client::Record> records =
        ReadRecords(**subscription, 1, std::chrono::seconds(5), last);
    const auto latency = std::chrono::steady_clock::now() - put_at;
    ASSERT_THAT(DataOf(records), ElementsAre(data));
    EXPECT_EQ(records[0].sequence_number, sequence_number);
    EXPECT_LT(latency, std::chrono::seconds(2));
  }
  (*subscription)->Cancel();
  while ((*subscription)->Next(last)) {
  }
}

TEST_F(GrpcConsumerTest, SubscriptionAfterASequenceNumberResumesAfterIt) {
  const std::string arn = StreamWithConsumer("orders");
  const std::vector<std::string> put = PutEach("orders", {"r0", "r1", "r2"});
  StatusOr<std::unique_ptr<client::ShardSubscription>> subscription = client().SubscribeToShard(
      arn, kShard0, client::IteratorPosition::AfterSequenceNumber(put[0]));
  ASSERT_TRUE(subscription.ok()) << subscription.status().ToString();
  client::SubscriptionEvent last;
  EXPECT_THAT(DataOf(ReadRecords(**subscription, 2, std::chrono::seconds(10), last)),
              ElementsAre("r1", "r2"));
}

TEST_F(GrpcConsumerTest, SubscriptionToASplitShardEndsWithItsChildren) {
  const std::string arn = StreamWithConsumer("orders");
  PutEach("orders", {"before"});
  StatusOr<std::unique_ptr<client::ShardSubscription>> subscription =
      client().SubscribeToShard(arn, kShard0, client::IteratorPosition::TrimHorizon());
  ASSERT_TRUE(subscription.ok()) << subscription.status().ToString();
  client::SubscriptionEvent last;
  ASSERT_THAT(DataOf(ReadRecords(**subscription, 1, std::chrono::seconds(10), last)),
              ElementsAre("before"));

  ASSERT_TRUE(client().SplitShard("orders", kShard0, kUpperHalfStart).ok());
  // The shard-end event follows within a poll, well before the next heartbeat.
  std::vector<client::SubscriptionEvent> events;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  client::SubscriptionEvent event;
  while (std::chrono::steady_clock::now() < deadline && (*subscription)->Next(event)) {
    events.push_back(event);
  }
  ASSERT_FALSE(events.empty());
  const client::SubscriptionEvent& end = events.back();
  EXPECT_TRUE(end.shard_ended());
  EXPECT_TRUE(end.records.empty());
  std::vector<std::string> children;
  for (const client::ChildShard& child : end.child_shards) {
    children.push_back(child.shard_id);
    EXPECT_THAT(child.parent_shards, ElementsAre(kShard0));
  }
  EXPECT_THAT(children, UnorderedElementsAre("shardId-000000000001", "shardId-000000000002"));
  // The call is over, and over cleanly.
  EXPECT_FALSE((*subscription)->Next(event));
  EXPECT_TRUE((*subscription)->status().ok()) << (*subscription)->status().ToString();
}

TEST_F(GrpcConsumerTest, SigtermWithAnOpenSubscriptionExitsCleanlyAndPromptly) {
  const std::string arn = StreamWithConsumer("orders");
  // Its own client: StopRiffled() drops the fixture's, and a client must outlive its
  // subscriptions.
  client::Client subscriber({.endpoint = riffled().grpc_endpoint()});
  StatusOr<std::unique_ptr<client::ShardSubscription>> subscription =
      subscriber.SubscribeToShard(arn, kShard0, client::IteratorPosition::Latest());
  ASSERT_TRUE(subscription.ok()) << subscription.status().ToString();
  std::thread reader([&] {
    client::SubscriptionEvent event;
    while ((*subscription)->Next(event)) {
    }
  });

  const auto stop_at = std::chrono::steady_clock::now();
  StopRiffled();  // fails the test unless riffled exits 0
  const auto took = std::chrono::steady_clock::now() - stop_at;
  reader.join();
  // Well inside the 5 s that the gRPC server grants calls in flight before cancelling them.
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ((*subscription)->status().code(), ErrorCode::kServiceUnavailable)
      << (*subscription)->status().ToString();
}

}  // namespace
}  // namespace riffle::testing
