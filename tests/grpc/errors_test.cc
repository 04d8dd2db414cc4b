// Bad input through gRPC gets the exact Kinesis code, and riffled keeps serving afterwards
// (TearDown also checks that it still exits 0 on SIGTERM).
#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

using ::testing::HasSubstr;

class GrpcErrorsTest : public RiffledTest {
 protected:
  void SetUp() override {
    RiffledTest::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  }

  void ExpectStillServing() {
    StatusOr<client::PutRecordResult> put =
        client().PutRecord("orders", {.data = "fine", .partition_key = "k"});
    EXPECT_TRUE(put.ok()) << "riffled stopped serving: " << put.status().ToString();
  }
};

TEST_F(GrpcErrorsTest, UnknownStreamIsResourceNotFound) {
  Status describe = client().DescribeStream("nope").status();
  EXPECT_EQ(describe.code(), ErrorCode::kResourceNotFound) << describe.ToString();
  EXPECT_EQ(describe.message(), "Stream nope under account 000000000000 not found.");

  Status put = client().PutRecord("nope", {.data = "x", .partition_key = "k"}).status();
  EXPECT_EQ(put.code(), ErrorCode::kResourceNotFound) << put.ToString();
  Status iterator =
      client()
          .GetShardIterator("nope", "shardId-000000000000", client::IteratorPosition::TrimHorizon())
          .status();
  EXPECT_EQ(iterator.code(), ErrorCode::kResourceNotFound) << iterator.ToString();
  Status remove = client().DeleteStream("nope");
  EXPECT_EQ(remove.code(), ErrorCode::kResourceNotFound) << remove.ToString();
  ExpectStillServing();
}

// With AWS's call rates on (riffled's default; these tests otherwise turn them off).
class GrpcCallRatesTest : public GrpcErrorsTest {
 protected:
  RiffledOptions Options() const override { return {.shard_quotas = "on"}; }
};

// DescribeStream's rate is 10 calls/s per account with a burst of 100: 120 calls cannot all
// pass within a second, and the client's retries of the refused ones get every call through.
TEST_F(GrpcCallRatesTest, CallsBeyondTheRateAreRetriedByTheClientAndGetThrough) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 120; ++i) {
    StatusOr<client::StreamDescription> described = client().DescribeStream("orders");
    ASSERT_TRUE(described.ok()) << i << ": " << described.status().ToString();
  }
  EXPECT_GT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ExpectStillServing();
}

TEST_F(GrpcErrorsTest, UnknownShardIsResourceNotFound) {
  Status iterator = client()
                        .GetShardIterator("orders", "shardId-000000000099",
                                          client::IteratorPosition::TrimHorizon())
                        .status();
  EXPECT_EQ(iterator.code(), ErrorCode::kResourceNotFound) << iterator.ToString();
  ExpectStillServing();
}

TEST_F(GrpcErrorsTest, PartitionKeyOf257CharactersIsValidation) {
  Status put =
      client().PutRecord("orders", {.data = "x", .partition_key = std::string(257, 'k')}).status();
  EXPECT_EQ(put.code(), ErrorCode::kValidation) << put.ToString();
  EXPECT_THAT(put.message(), HasSubstr("partitionKey"));
  StatusOr<client::PutRecordResult> longest =
      client().PutRecord("orders", {.data = "x", .partition_key = std::string(256, 'k')});
  EXPECT_TRUE(longest.ok()) << longest.status().ToString();
}

TEST_F(GrpcErrorsTest, EmptyPartitionKeyIsValidation) {
  Status put = client().PutRecord("orders", {.data = "x", .partition_key = ""}).status();
  EXPECT_EQ(put.code(), ErrorCode::kValidation) << put.ToString();
  ExpectStillServing();
}

TEST_F(GrpcErrorsTest, PutRecordsOf501RecordsIsValidation) {
  std::vector<client::RecordToPut> records(501,
                                           client::RecordToPut{.data = "x", .partition_key = "k"});
  Status put = client().PutRecords("orders", records).status();
  EXPECT_EQ(put.code(), ErrorCode::kValidation) << put.ToString();
  records.pop_back();
  StatusOr<client::PutRecordsResult> five_hundred = client().PutRecords("orders", records);
  ASSERT_TRUE(five_hundred.ok()) << five_hundred.status().ToString();
  EXPECT_EQ(five_hundred->failed_record_count, 0);
}

TEST_F(GrpcErrorsTest, EmptyPutRecordsIsValidation) {
  Status put = client().PutRecords("orders", {}).status();
  EXPECT_EQ(put.code(), ErrorCode::kValidation) << put.ToString();
  ExpectStillServing();
}

TEST_F(GrpcErrorsTest, ExplicitHashKeyOfTwoToThe128IsInvalidArgument) {
  Status put =
      client()
          .PutRecord("orders", {.data = "x",
                                .partition_key = "k",
                                .explicit_hash_key = "340282366920938463463374607431768211456"})
          .status();
  EXPECT_EQ(put.code(), ErrorCode::kInvalidArgument) << put.ToString();
  EXPECT_THAT(put.message(), HasSubstr("ExplicitHashKey"));
  ExpectStillServing();
}

TEST_F(GrpcErrorsTest, GarbageIteratorIsInvalidArgument) {
  Status get = client().GetRecords("this-is-not-an-iterator").status();
  EXPECT_EQ(get.code(), ErrorCode::kInvalidArgument) << get.ToString();
  EXPECT_EQ(get.message(), "Invalid ShardIterator.");
  ExpectStillServing();
}

TEST_F(GrpcErrorsTest, TamperedIteratorIsInvalidArgument) {
  StatusOr<std::string> iterator = client().GetShardIterator(
      "orders", "shardId-000000000000", client::IteratorPosition::TrimHorizon());
  ASSERT_TRUE(iterator.ok()) << iterator.status().ToString();
  std::string tampered = *iterator;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  Status get = client().GetRecords(tampered).status();
  EXPECT_EQ(get.code(), ErrorCode::kInvalidArgument) << get.ToString();
}

TEST_F(GrpcErrorsTest, SequenceIteratorWithoutSequenceNumberIsInvalidArgument) {
  Status iterator = client()
                        .GetShardIterator("orders", "shardId-000000000000",
                                          client::IteratorPosition::AtSequenceNumber(""))
                        .status();
  EXPECT_EQ(iterator.code(), ErrorCode::kInvalidArgument) << iterator.ToString();
  ExpectStillServing();
}

TEST_F(GrpcErrorsTest, ZeroShardsIsValidation) {
  Status create = client().CreateStream("empty", {.shard_count = 0});
  EXPECT_EQ(create.code(), ErrorCode::kValidation) << create.ToString();
}

TEST_F(GrpcErrorsTest, BadStreamNameIsValidation) {
  Status create = client().CreateStream("has space", {.shard_count = 1});
  EXPECT_EQ(create.code(), ErrorCode::kValidation) << create.ToString();
  Status too_long = client().CreateStream(std::string(129, 'n'), {.shard_count = 1});
  EXPECT_EQ(too_long.code(), ErrorCode::kValidation) << too_long.ToString();
}

}  // namespace
}  // namespace riffle::testing
