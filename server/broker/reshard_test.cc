// Resharding on a real Store: lineage, closing positions, routing after the switch, restarts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "server/broker/broker.h"
#include "storage/format.h"
#include "storage/store.h"

namespace riffle::broker {
namespace {

using ::testing::ElementsAre;

class ReshardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("riffle-reshard-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
    CreateStreamRequest req;
    req.stream_name = "s";
    req.shard_count = 1;
    ASSERT_TRUE(broker_->CreateStream(ctx_, req).ok());
  }
  void TearDown() override {
    broker_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    broker_.reset();
    store_.reset();
    storage::StoreOptions options;
    options.data_dir = dir_;
    options.fsync = storage::FsyncMode::kNever;
    store_ = std::move(storage::Store::Open(options)).value();
    BrokerOptions broker_options;
    broker_options.shard_quotas = false;
    broker_ = std::move(Broker::Open(*store_, clock_, broker_options)).value();
  }
  std::vector<ShardDescription> Shards() {
    DescribeStreamRequest req;
    req.stream.name = "s";
    return broker_->DescribeStream(ctx_, req)->shards;
  }
  StatusOr<PutRecordResult> PutAt(const std::string& hash_key, const std::string& data) {
    PutRecordRequest req;
    req.stream.name = "s";
    req.partition_key = "k";
    req.explicit_hash_key = hash_key;
    req.data = data;
    return broker_->PutRecord(ctx_, req);
  }
  Status Split(const std::string& shard, const std::string& key) {
    SplitShardRequest req;
    req.stream.name = "s";
    req.shard_to_split = shard;
    req.new_starting_hash_key = key;
    return broker_->SplitShard(ctx_, req);
  }
  // Everything in a shard from TRIM_HORIZON to its end, and the last response.
  std::pair<std::vector<std::string>, GetRecordsResult> ReadShard(const std::string& shard) {
    GetShardIteratorRequest it;
    it.stream.name = "s";
    it.shard_id = shard;
    it.shard_iterator_type = "TRIM_HORIZON";
    std::optional<std::string> iterator = *broker_->GetShardIterator(ctx_, it);
    std::vector<std::string> data;
    GetRecordsResult last;
    while (iterator) {
      GetRecordsRequest get;
      get.shard_iterator = *iterator;
      last = *broker_->GetRecords(ctx_, get);
      for (const Record& r : last.records) {
        data.push_back(r.data);
      }
      if (last.records.empty() && last.next_shard_iterator) {
        break;  // the tip of an open shard
      }
      iterator = last.next_shard_iterator;
    }
    return {data, last};
  }

  ManualClock clock_{1'700'000'000'000};
  RequestContext ctx_;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Broker> broker_;
};

const std::string kHalf = "170141183460469231731687303715884105728";  // 2^127

TEST_F(ReshardTest, SplitClosesTheParentAndRoutesLaterWritesToTheChildren) {
  std::string before = PutAt("5", "before")->sequence_number;
  ASSERT_TRUE(Split("shardId-000000000000", kHalf).ok());
  std::vector<ShardDescription> shards = Shards();
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_EQ(shards[0].ending_sequence_number, before);  // closed at its last record
  EXPECT_EQ(shards[1].shard_id, "shardId-000000000001");
  EXPECT_EQ(shards[1].parent_shard_id, "shardId-000000000000");
  EXPECT_EQ(shards[1].hash_key_range.starting_hash_key, "0");
  EXPECT_EQ(shards[1].hash_key_range.ending_hash_key, "170141183460469231731687303715884105727");
  EXPECT_EQ(shards[2].hash_key_range.starting_hash_key, kHalf);
  EXPECT_FALSE(shards[2].ending_sequence_number.has_value());

  StatusOr<PutRecordResult> low = PutAt("5", "low");
  StatusOr<PutRecordResult> high = PutAt(kHalf, "high");
  EXPECT_EQ(low->shard_id, "shardId-000000000001");
  EXPECT_EQ(high->shard_id, "shardId-000000000002");
  EXPECT_GT(low->sequence_number, before);  // children sort after their parent

  auto [parent_data, parent_end] = ReadShard("shardId-000000000000");
  EXPECT_THAT(parent_data, ElementsAre("before"));
  EXPECT_FALSE(parent_end.next_shard_iterator.has_value());
  ASSERT_EQ(parent_end.child_shards.size(), 2u);
  EXPECT_EQ(parent_end.child_shards[0].shard_id, "shardId-000000000001");
  EXPECT_THAT(parent_end.child_shards[0].parent_shards, ElementsAre("shardId-000000000000"));
  EXPECT_THAT(ReadShard("shardId-000000000001").first, ElementsAre("low"));
}

TEST_F(ReshardTest, SplitRejectsBadKeysClosedShardsAndUnknownShards) {
  EXPECT_EQ(Split("shardId-000000000000", "1").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Split("shardId-000000000000", "340282366920938463463374607431768211455").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Split("shardId-000000000000", "12x").code(), ErrorCode::kValidation);
  EXPECT_EQ(Split("shardId-000000000009", kHalf).code(), ErrorCode::kResourceNotFound);
  ASSERT_TRUE(Split("shardId-000000000000", kHalf).ok());
  EXPECT_EQ(Split("shardId-000000000000", kHalf).code(), ErrorCode::kResourceInUse);
}

TEST_F(ReshardTest, MergeTakesAdjacentShardsInHashOrder) {
  ASSERT_TRUE(Split("shardId-000000000000", kHalf).ok());
  MergeShardsRequest req;
  req.stream.name = "s";
  req.shard_to_merge = "shardId-000000000002";
  req.adjacent_shard_to_merge = "shardId-000000000001";
  EXPECT_EQ(broker_->MergeShards(ctx_, req).code(), ErrorCode::kInvalidArgument);
  std::swap(req.shard_to_merge, req.adjacent_shard_to_merge);
  ASSERT_TRUE(broker_->MergeShards(ctx_, req).ok());
  std::vector<ShardDescription> shards = Shards();
  ASSERT_EQ(shards.size(), 4u);
  EXPECT_EQ(shards[3].parent_shard_id, "shardId-000000000001");
  EXPECT_EQ(shards[3].adjacent_parent_shard_id, "shardId-000000000002");
  EXPECT_EQ(shards[3].hash_key_range.starting_hash_key, "0");
  EXPECT_EQ(shards[3].hash_key_range.ending_hash_key, "340282366920938463463374607431768211455");
  EXPECT_EQ(PutAt("7", "x")->shard_id, "shardId-000000000003");
}

TEST_F(ReshardTest, UpdateShardCountReachesAUniformLayoutWithTwoParentsAtMost) {
  UpdateShardCountRequest req;
  req.stream.name = "s";
  req.scaling_type = "UNIFORM_SCALING";
  req.target_shard_count = 3;  // more than double
  EXPECT_EQ(broker_->UpdateShardCount(ctx_, req).status().code(), ErrorCode::kLimitExceeded);
  req.target_shard_count = 2;
  ASSERT_TRUE(broker_->UpdateShardCount(ctx_, req).ok());
  req.target_shard_count = 3;
  StatusOr<UpdateShardCountResult> three = broker_->UpdateShardCount(ctx_, req);
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  EXPECT_EQ(three->current_shard_count, 2);
  req.target_shard_count = 2;  // 3 -> 2 needs a layer of 4 first
  ASSERT_TRUE(broker_->UpdateShardCount(ctx_, req).ok());
  std::vector<std::pair<std::string, std::string>> open;
  for (const ShardDescription& shard : Shards()) {
    EXPECT_FALSE(shard.adjacent_parent_shard_id.has_value() && !shard.parent_shard_id.has_value());
    if (!shard.ending_sequence_number) {
      open.emplace_back(shard.hash_key_range.starting_hash_key,
                        shard.hash_key_range.ending_hash_key);
    }
  }
  EXPECT_THAT(open, ElementsAre(std::pair<std::string, std::string>(
                                    "0", "170141183460469231731687303715884105727"),
                                std::pair<std::string, std::string>(
                                    kHalf, "340282366920938463463374607431768211455")));
}

TEST_F(ReshardTest, OnDemandStreamsCannotBeResharded) {
  CreateStreamRequest req;
  req.stream_name = "od";
  req.stream_mode = "ON_DEMAND";
  ASSERT_TRUE(broker_->CreateStream(ctx_, req).ok());
  SplitShardRequest split;
  split.stream.name = "od";
  split.shard_to_split = "shardId-000000000000";
  split.new_starting_hash_key = "1000";
  EXPECT_EQ(broker_->SplitShard(ctx_, split).code(), ErrorCode::kValidation);
}

TEST_F(ReshardTest, ReshardSurvivesARestart) {
  ASSERT_TRUE(PutAt("5", "before").ok());
  ASSERT_TRUE(Split("shardId-000000000000", kHalf).ok());
  ASSERT_TRUE(PutAt("5", "after").ok());
  Open();
  std::vector<ShardDescription> shards = Shards();
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_TRUE(shards[0].ending_sequence_number.has_value());
  EXPECT_EQ(PutAt("6", "again")->shard_id, "shardId-000000000001");
  EXPECT_THAT(ReadShard("shardId-000000000000").first, ElementsAre("before"));
  EXPECT_THAT(ReadShard("shardId-000000000001").first, ElementsAre("after", "again"));
}

TEST_F(ReshardTest, ClosedShardsExpireWithTheirRecords) {
  ASSERT_TRUE(PutAt("5", "old").ok());
  ASSERT_TRUE(Split("shardId-000000000000", kHalf).ok());
  clock_.Advance(25LL * 3600 * 1000);  // past the 24 h retention
  ASSERT_TRUE(PutAt("5", "new").ok());
  broker_->TrimExpiredRecords();
  std::vector<ShardDescription> shards = Shards();
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].shard_id, "shardId-000000000001");
  EXPECT_EQ(shards[0].parent_shard_id, "shardId-000000000000");  // lineage stays
  GetShardIteratorRequest it;
  it.stream.name = "s";
  it.shard_id = "shardId-000000000000";
  it.shard_iterator_type = "TRIM_HORIZON";
  EXPECT_EQ(broker_->GetShardIterator(ctx_, it).status().code(), ErrorCode::kResourceNotFound);
  EXPECT_THAT(ReadShard("shardId-000000000001").first, ElementsAre("new"));
  Open();  // the catalog and the records agree after a restart
  EXPECT_EQ(Shards().size(), 2u);
}

// Writers racing a split: every acknowledged record is in the parent (below its ending
// sequence number) or in a child, exactly once, and each writer's records stay in order.
TEST_F(ReshardTest, WritesRacingASplitAreNeitherLostNorReordered) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acked(3);
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop.load() || i < 50; ++i) {
        std::string data = std::to_string(w) + ":" + std::to_string(i);
        StatusOr<PutRecordResult> put = PutAt("5", data);
        ASSERT_TRUE(put.ok()) << put.status().ToString();
        acked[w].push_back(data);
        if (i > 2000) {
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(Split("shardId-000000000000", kHalf).ok());
  stop = true;
  for (std::thread& t : writers) {
    t.join();
  }
  std::vector<std::string> all = ReadShard("shardId-000000000000").first;
  std::vector<std::string> child = ReadShard("shardId-000000000001").first;
  all.insert(all.end(), child.begin(), child.end());
  for (int w = 0; w < 3; ++w) {
    std::vector<std::string> mine;
    for (const std::string& d : all) {
      if (d.rfind(std::to_string(w) + ":", 0) == 0) {
        mine.push_back(d);
      }
    }
    EXPECT_EQ(mine, acked[w]) << "writer " << w;
  }
}

}  // namespace
}  // namespace riffle::broker
