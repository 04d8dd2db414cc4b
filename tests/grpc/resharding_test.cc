// SplitShard, MergeShards and UpdateShardCount through the C++ client against the real riffled:
// the lineage DescribeStream shows, records read back in order through parents then children,
// and the Kinesis error codes of bad requests.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// 2^127 - 1 and 2^127: the halves of the hash key space, and 2^128 - 1, the last hash key.
constexpr char kLowerHalfEnd[] = "170141183460469231731687303715884105727";
constexpr char kUpperHalfStart[] = "170141183460469231731687303715884105728";
constexpr char kMaxHashKey[] = "340282366920938463463374607431768211455";

constexpr char kShard0[] = "shardId-000000000000";
constexpr char kShard1[] = "shardId-000000000001";
constexpr char kShard2[] = "shardId-000000000002";
constexpr char kShard3[] = "shardId-000000000003";

unsigned __int128 ParseHashKey(const std::string& decimal) {
  unsigned __int128 value = 0;
  for (char digit : decimal) {
    value = value * 10 + static_cast<unsigned>(digit - '0');
  }
  return value;
}

std::vector<std::string> DataOf(const std::vector<client::Record>& records) {
  std::vector<std::string> data;
  for (const client::Record& record : records) {
    data.push_back(record.data);
  }
  return data;
}

// What a reader of a closed shard sees: every record, then no next iterator and the children.
struct ShardEnd {
  std::vector<client::Record> records;
  std::vector<client::ChildShard> child_shards;
};

class GrpcReshardTest : public RiffledTest {
 protected:
  // Reads a closed shard from TRIM_HORIZON to its end (at most 100 calls).
  StatusOr<ShardEnd> ReadClosedShard(const std::string& stream, const std::string& shard_id) {
    RIFFLE_ASSIGN_OR_RETURN(std::string iterator,
                            client().GetShardIterator(stream, shard_id,
                                                      client::IteratorPosition::TrimHorizon()));
    ShardEnd end;
    for (int call = 0; call < 100; ++call) {
      RIFFLE_ASSIGN_OR_RETURN(client::GetRecordsResult result, client().GetRecords(iterator));
      for (client::Record& record : result.records) {
        end.records.push_back(std::move(record));
      }
      if (result.next_shard_iterator.empty()) {
        end.child_shards = std::move(result.child_shards);
        return end;
      }
      iterator = std::move(result.next_shard_iterator);
    }
    return Status(ErrorCode::kInternalFailure, shard_id + " did not end after 100 calls");
  }

  // Writes `data` with partition key `key`, one PutRecord each (in order); returns the shard of
  // the last one.
  std::string PutEach(const std::string& stream, const std::string& key,
                      const std::vector<std::string>& data) {
    std::string shard;
    for (const std::string& item : data) {
      StatusOr<client::PutRecordResult> put =
          client().PutRecord(stream, {.data = item, .partition_key = key});
      EXPECT_TRUE(put.ok()) << put.status().ToString();
      if (put.ok()) {
        shard = put->shard_id;
      }
    }
    return shard;
  }

  const client::Shard* FindShard(const client::StreamDescription& description,
                                 const std::string& shard_id) {
    for (const client::Shard& shard : description.shards) {
      if (shard.shard_id == shard_id) {
        return &shard;
      }
    }
    ADD_FAILURE() << shard_id << " not in the description";
    return nullptr;
  }
};

TEST_F(GrpcReshardTest, SplitClosesTheParentAndOpensTwoChildrenThatSplitItsHashKeys) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  Status split = client().SplitShard("orders", kShard0, kUpperHalfStart);
  ASSERT_TRUE(split.ok()) << split.ToString();

  StatusOr<client::StreamDescription> description = client().DescribeStream("orders");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  EXPECT_EQ(description->stream_status, "ACTIVE");
  EXPECT_EQ(description->open_shard_count, 2);
  ASSERT_EQ(description->shards.size(), 3u);
  const client::Shard& parent = description->shards[0];
  EXPECT_EQ(parent.shard_id, kShard0);
  EXPECT_NE(parent.ending_sequence_number, "") << "the split parent must be closed";
  const client::Shard& low = description->shards[1];
  const client::Shard& high = description->shards[2];
  EXPECT_EQ(low.shard_id, kShard1);
  EXPECT_EQ(high.shard_id, kShard2);
  for (const client::Shard* child : {&low, &high}) {
    EXPECT_EQ(child->parent_shard_id, kShard0) << child->shard_id;
    EXPECT_EQ(child->adjacent_parent_shard_id, "") << child->shard_id;
    EXPECT_EQ(child->ending_sequence_number, "") << child->shard_id << " should be open";
  }
  EXPECT_EQ(low.hash_key_range.starting_hash_key, "0");
  EXPECT_EQ(low.hash_key_range.ending_hash_key, kLowerHalfEnd);
  EXPECT_EQ(high.hash_key_range.starting_hash_key, kUpperHalfStart);
  EXPECT_EQ(high.hash_key_range.ending_hash_key, kMaxHashKey);

  StatusOr<std::vector<client::Shard>> listed = client().ListShards("orders");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 3u);
}

TEST_F(GrpcReshardTest, RecordsBeforeAndAfterASplitReadBackInOrderThroughParentThenChild) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  const std::vector<std::string> before = {"b0", "b1", "b2", "b3", "b4"};
  const std::vector<std::string> after = {"a0", "a1", "a2", "a3", "a4"};
  EXPECT_EQ(PutEach("orders", "user-1", before), kShard0);
  ASSERT_TRUE(client().SplitShard("orders", kShard0, kUpperHalfStart).ok());
  const std::string child = PutEach("orders", "user-1", after);
  ASSERT_THAT(child, ::testing::AnyOf(kShard1, kShard2));

  StatusOr<ShardEnd> parent = ReadClosedShard("orders", kShard0);
  ASSERT_TRUE(parent.ok()) << parent.status().ToString();
  EXPECT_THAT(DataOf(parent->records), ElementsAreArray(before));
  ASSERT_EQ(parent->child_shards.size(), 2u);
  EXPECT_EQ(parent->child_shards[0].shard_id, kShard1);
  EXPECT_THAT(parent->child_shards[0].parent_shards, ElementsAre(kShard0));
  EXPECT_EQ(parent->child_shards[0].hash_key_range.ending_hash_key, kLowerHalfEnd);
  EXPECT_EQ(parent->child_shards[1].shard_id, kShard2);
  EXPECT_THAT(parent->child_shards[1].parent_shards, ElementsAre(kShard0));
  EXPECT_EQ(parent->child_shards[1].hash_key_range.starting_hash_key, kUpperHalfStart);

  StatusOr<std::vector<client::Record>> children = ReadShard("orders", child);
  ASSERT_TRUE(children.ok()) << children.status().ToString();
  EXPECT_THAT(DataOf(*children), ElementsAreArray(after));
  const std::string other = child == kShard1 ? kShard2 : kShard1;
  StatusOr<std::vector<client::Record>> empty = ReadShard("orders", other);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());

  // The parent's end is the same after a restart: the reshard is in the catalog.
  StopRiffled();
  StartRiffled();
  ASSERT_FALSE(HasFatalFailure());
  StatusOr<ShardEnd> again = ReadClosedShard("orders", kShard0);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_THAT(DataOf(again->records), ElementsAreArray(before));
  EXPECT_EQ(again->child_shards.size(), 2u);
}

TEST_F(GrpcReshardTest, MergeMakesOneChildOfBothParents) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  Status merge = client().MergeShards("orders", kShard0, kShard1);
  ASSERT_TRUE(merge.ok()) << merge.ToString();

  StatusOr<client::StreamDescription> description = client().DescribeStream("orders");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  EXPECT_EQ(description->open_shard_count, 1);
  const client::Shard* child = FindShard(*description, kShard2);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->parent_shard_id, kShard0);
  EXPECT_EQ(child->adjacent_parent_shard_id, kShard1);
  EXPECT_EQ(child->hash_key_range.starting_hash_key, "0");
  EXPECT_EQ(child->hash_key_range.ending_hash_key, kMaxHashKey);

  for (const char* parent : {kShard0, kShard1}) {
    StatusOr<ShardEnd> end = ReadClosedShard("orders", parent);
    ASSERT_TRUE(end.ok()) << end.status().ToString();
    ASSERT_EQ(end->child_shards.size(), 1u) << parent;
    EXPECT_EQ(end->child_shards[0].shard_id, kShard2);
    EXPECT_THAT(end->child_shards[0].parent_shards, ElementsAre(kShard0, kShard1));
  }
  StatusOr<client::PutRecordResult> put =
      client().PutRecord("orders", {.data = "x", .partition_key = "k"});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->shard_id, kShard2);
}

TEST_F(GrpcReshardTest, UpdateShardCountLeavesEvenContiguousOpenShardsWithParents) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  StatusOr<client::UpdateShardCountResult> scaled = client().UpdateShardCount("orders", 4);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  EXPECT_EQ(scaled->stream_name, "orders");
  EXPECT_EQ(scaled->stream_arn, "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
  EXPECT_EQ(scaled->current_shard_count, 2);
  EXPECT_EQ(scaled->target_shard_count, 4);

  const auto expect_open = [&](size_t count) {
    StatusOr<client::StreamDescription> description = client().DescribeStream("orders");
    ASSERT_TRUE(description.ok()) << description.status().ToString();
    EXPECT_EQ(description->open_shard_count, static_cast<int32_t>(count));
    std::vector<const client::Shard*> open;
    for (const client::Shard& shard : description->shards) {
      if (shard.ending_sequence_number.empty()) {
        open.push_back(&shard);
        EXPECT_NE(shard.parent_shard_id, "") << shard.shard_id << " should have a parent";
      }
    }
    ASSERT_EQ(open.size(), count);
    EXPECT_EQ(open.front()->hash_key_range.starting_hash_key, "0");
    EXPECT_EQ(open.back()->hash_key_range.ending_hash_key, kMaxHashKey);
    const unsigned __int128 width = ParseHashKey(open[0]->hash_key_range.ending_hash_key) + 1;
    for (size_t i = 1; i < open.size(); ++i) {
      const unsigned __int128 start = ParseHashKey(open[i]->hash_key_range.starting_hash_key);
      EXPECT_TRUE(ParseHashKey(open[i - 1]->hash_key_range.ending_hash_key) + 1 == start)
          << open[i]->shard_id << " does not start where " << open[i - 1]->shard_id << " ends";
      EXPECT_TRUE(start == width * i) << open[i]->shard_id << " is not an even range";
    }
  };
  expect_open(4);
  ASSERT_FALSE(HasFatalFailure());

  scaled = client().UpdateShardCount("orders", 2);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  EXPECT_EQ(scaled->current_shard_count, 4);
  EXPECT_EQ(scaled->target_shard_count, 2);
  expect_open(2);
}

TEST_F(GrpcReshardTest, UnknownShardIsResourceNotFound) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  Status split = client().SplitShard("orders", "shardId-000000000099", kUpperHalfStart);
  EXPECT_EQ(split.code(), ErrorCode::kResourceNotFound) << split.ToString();
  EXPECT_EQ(split.message(),
            "Could not find shard shardId-000000000099 in stream orders under account "
            "000000000000.");
  Status merge = client().MergeShards("orders", kShard0, "shardId-000000000099");
  EXPECT_EQ(merge.code(), ErrorCode::kResourceNotFound) << merge.ToString();
  Status missing_stream = client().SplitShard("nope", kShard0, kUpperHalfStart);
  EXPECT_EQ(missing_stream.code(), ErrorCode::kResourceNotFound) << missing_stream.ToString();
}

TEST_F(GrpcReshardTest, HashKeyOutsideTheShardIsInvalidArgument) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  // Shard 0 holds 0..2^127-1: its first two keys, and anything from its end on, are refused.
  for (const std::string& key : {std::string("0"), std::string("1"), std::string(kLowerHalfEnd),
                                 std::string(kUpperHalfStart)}) {
    Status split = client().SplitShard("orders", kShard0, key);
    EXPECT_EQ(split.code(), ErrorCode::kInvalidArgument) << key << ": " << split.ToString();
    EXPECT_THAT(split.message(), HasSubstr("NewStartingHashKey " + key));
  }
  Status not_a_number = client().SplitShard("orders", kShard0, "12ab");
  EXPECT_EQ(not_a_number.code(), ErrorCode::kValidation) << not_a_number.ToString();
  Status smallest = client().SplitShard("orders", kShard0, "2");
  EXPECT_TRUE(smallest.ok()) << smallest.ToString();
}

TEST_F(GrpcReshardTest, ReshardingAnOnDemandStreamIsValidation) {
  ASSERT_TRUE(CreateActiveStream("elastic", {.mode = client::StreamMode::kOnDemand}).ok());
  Status split = client().SplitShard("elastic", kShard0, kUpperHalfStart);
  EXPECT_EQ(split.code(), ErrorCode::kValidation) << split.ToString();
  EXPECT_THAT(split.message(), HasSubstr("ON_DEMAND"));
  Status merge = client().MergeShards("elastic", kShard0, kShard1);
  EXPECT_EQ(merge.code(), ErrorCode::kValidation) << merge.ToString();
  Status scale = client().UpdateShardCount("elastic", 2).status();
  EXPECT_EQ(scale.code(), ErrorCode::kValidation) << scale.ToString();
}

TEST_F(GrpcReshardTest, MergingShardsThatAreNotAnAdjacentPairIsInvalidArgument) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 3}).ok());
  Status gap = client().MergeShards("orders", kShard0, kShard2);
  EXPECT_EQ(gap.code(), ErrorCode::kInvalidArgument) << gap.ToString();
  EXPECT_THAT(gap.message(), HasSubstr("not an adjacent pair"));
  // Adjacent, but ShardToMerge must hold the lower hash keys.
  Status reversed = client().MergeShards("orders", kShard1, kShard0);
  EXPECT_EQ(reversed.code(), ErrorCode::kInvalidArgument) << reversed.ToString();
  Status itself = client().MergeShards("orders", kShard1, kShard1);
  EXPECT_EQ(itself.code(), ErrorCode::kInvalidArgument) << itself.ToString();

  StatusOr<client::StreamDescription> description = client().DescribeStream("orders");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  EXPECT_EQ(description->shards.size(), 3u) << "a refused merge must change nothing";
}

TEST_F(GrpcReshardTest, ReshardingAClosedShardIsResourceInUse) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  ASSERT_TRUE(client().SplitShard("orders", kShard0, kUpperHalfStart).ok());
  Status again = client().SplitShard("orders", kShard0, kUpperHalfStart);
  EXPECT_EQ(again.code(), ErrorCode::kResourceInUse) << again.ToString();
  EXPECT_THAT(again.message(), HasSubstr("has already been merged or split"));
  Status merge = client().MergeShards("orders", kShard0, kShard1);
  EXPECT_EQ(merge.code(), ErrorCode::kResourceInUse) << merge.ToString();
  ASSERT_TRUE(client().MergeShards("orders", kShard1, kShard2).ok());
  StatusOr<client::StreamDescription> description = client().DescribeStream("orders");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  const client::Shard* merged = FindShard(*description, kShard3);
  ASSERT_NE(merged, nullptr);
  EXPECT_EQ(merged->parent_shard_id, kShard1);
  EXPECT_EQ(merged->adjacent_parent_shard_id, kShard2);
}

TEST_F(GrpcReshardTest, ScalingBeyondDoubleOrBelowHalfIsLimitExceeded) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  Status up = client().UpdateShardCount("orders", 5).status();
  EXPECT_EQ(up.code(), ErrorCode::kLimitExceeded) << up.ToString();
  EXPECT_THAT(up.message(), HasSubstr("between half and double"));
  ASSERT_TRUE(client().UpdateShardCount("orders", 4).ok());
  Status down = client().UpdateShardCount("orders", 1).status();
  EXPECT_EQ(down.code(), ErrorCode::kLimitExceeded) << down.ToString();
  Status zero = client().UpdateShardCount("orders", 0).status();
  EXPECT_EQ(zero.code(), ErrorCode::kValidation) << zero.ToString();
}

}  // namespace
}  // namespace riffle::testing
