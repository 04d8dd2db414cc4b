#include "server/cluster/follower.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "storage/format.h"
#include "storage/store.h"

namespace riffle::cluster {
namespace {

constexpr uint64_t kStream = 7;
constexpr uint32_t kShard = 0;

// A leader's Append of `data` (one record per character, at offsets from `prev_end`).
v1::AppendRequest Append(uint64_t epoch, uint64_t prev_end, const std::string& data,
                         const EpochHistory& history, uint64_t high_watermark = 0) {
  v1::AppendRequest request;
  request.mutable_shard()->set_stream_id(kStream);
  request.mutable_shard()->set_ordinal(kShard);
  request.set_epoch(epoch);
  request.set_leader_node_id("leader");
  request.set_prev_end(prev_end);
  request.set_end(prev_end + data.size());
  request.set_high_watermark(high_watermark);
  for (const EpochStart& start : history) {
    v1::EpochStart* out = request.add_history();
    out->set_epoch(start.epoch);
    out->set_start_offset(start.start_offset);
  }
  for (size_t i = 0; i < data.size(); ++i) {
    v1::Entry* entry = request.add_entries();
    entry->set_offset(prev_end + i);
    entry->set_value(storage::EncodeRecord(1000, "key", std::string(1, data[i])));
  }
  return request;
}

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("riffle-follower-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    follower_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // As after a restart: the store and the follower's memory start from the disk.
  void Reopen() {
    follower_.reset();
    store_.reset();
    auto store = storage::Store::Open({.data_dir = dir_, .fsync = storage::FsyncMode::kAlways});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    follower_ = std::make_unique<Follower>(*store_);
  }

  v1::AppendResponse Apply(const v1::AppendRequest& request) {
    std::vector<StatusOr<v1::AppendResponse>> out = follower_->Append({&request});
    EXPECT_TRUE(out.front().ok()) << out.front().status().ToString();
    return out.front().ok() ? *out.front() : v1::AppendResponse();
  }

  // The data of the shard's records, in offset order ('.' for an offset without one).
  std::string Log() {
    auto log = store_->OpenShard(kStream, kShard);
    EXPECT_TRUE(log.ok());
    auto read = (*log)->ReadDurable(0, 1000, 1 << 20);
    EXPECT_TRUE(read.ok());
    std::string out;
    for (const storage::ReadRecord& record : read->records) {
      out.resize(record.offset, '.');
      out += record.record.data;
    }
    out.resize((*log)->durable_end(), '.');
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Follower> follower_;
};

TEST_F(FollowerTest, AppendsInOrderAndAnswersAGapWithItsEnd) {
  EXPECT_EQ(Apply(Append(1, 0, "abc", {{1, 0}})).result(), v1::AppendResponse::OK);
  v1::AppendResponse gap = Apply(Append(1, 5, "fg", {{1, 0}}));
  EXPECT_EQ(gap.result(), v1::AppendResponse::GAP);
  EXPECT_EQ(gap.end(), 3u);
  v1::AppendResponse ok = Apply(Append(1, 3, "de", {{1, 0}}));
  EXPECT_EQ(ok.result(), v1::AppendResponse::OK);
  EXPECT_EQ(ok.end(), 5u);
  EXPECT_EQ(Log(), "abcde");
}

TEST_F(FollowerTest, ALateDuplicateOfTheSameEpochNeverTruncates) {
  Apply(Append(1, 0, "abcd", {{1, 0}}));
  v1::AppendResponse late = Apply(Append(1, 0, "ab", {{1, 0}}));
  EXPECT_EQ(late.result(), v1::AppendResponse::OK);
  EXPECT_EQ(late.end(), 4u);
  EXPECT_EQ(Log(), "abcd");
}

TEST_F(FollowerTest, ADeposedLeadersTailIsCutWhereTheNewLeaderParts) {
  // Epoch 1 wrote "abcd" here; the new leader of epoch 2 kept only "ab" and opened its epoch
  // at offset 2.
  Apply(Append(1, 0, "abcd", {{1, 0}}));
  v1::AppendResponse cut = Apply(Append(2, 4, "", {{1, 0}, {2, 2}}));
  EXPECT_EQ(cut.result(), v1::AppendResponse::GAP);
  EXPECT_EQ(cut.end(), 2u);
  EXPECT_EQ(Log(), "ab");
  EXPECT_EQ(Apply(Append(2, 2, "XY", {{1, 0}, {2, 2}})).result(), v1::AppendResponse::OK);
  EXPECT_EQ(Log(), "abXY");
  Reopen();  // the cut and the new entries are on disk
  EXPECT_EQ(Log(), "abXY");
}

TEST_F(FollowerTest, AFencedReplicaRefusesOlderEpochsAcrossARestart) {
  Apply(Append(1, 0, "ab", {{1, 0}}));
  v1::FenceRequest fence;
  fence.mutable_shard()->set_stream_id(kStream);
  fence.mutable_shard()->set_ordinal(kShard);
  fence.set_epoch(3);
  StatusOr<v1::FenceResponse> fenced = follower_->Fence(fence);
  ASSERT_TRUE(fenced.ok());
  EXPECT_TRUE(fenced->fenced());
  EXPECT_EQ(fenced->end(), 2u);
  EXPECT_EQ(fenced->last_epoch(), 1u);
  Reopen();
  v1::AppendResponse old = Apply(Append(2, 2, "c", {{1, 0}, {2, 2}}));
  EXPECT_EQ(old.result(), v1::AppendResponse::FENCED);
  EXPECT_EQ(old.epoch(), 3u);
  EXPECT_EQ(Log(), "ab");
}

TEST_F(FollowerTest, RefusesToCutBelowWhatItKnowsCommitted) {
  Apply(Append(1, 0, "abcd", {{1, 0}}, /*high_watermark=*/4));
  Apply(Append(1, 4, "", {{1, 0}}, /*high_watermark=*/4));
  // A leader whose history says offset 1 on belongs to another epoch: it would cut committed
  // entries, which no correct election produces.
  v1::AppendResponse refused = Apply(Append(3, 1, "", {{1, 0}, {3, 1}}));
  EXPECT_EQ(refused.result(), v1::AppendResponse::DIVERGED);
  EXPECT_EQ(Log(), "abcd");
}

TEST_F(FollowerTest, AppendsOfSeveralShardsGoInOneWrite) {
  v1::AppendRequest first = Append(1, 0, "ab", {{1, 0}});
  v1::AppendRequest other = Append(1, 0, "xyz", {{1, 0}});
  other.mutable_shard()->set_ordinal(kShard + 1);
  v1::AppendRequest second = Append(1, 2, "c", {{1, 0}});  // the same shard: after `first`
  std::vector<StatusOr<v1::AppendResponse>> out = follower_->Append({&first, &other, &second});
  ASSERT_EQ(out.size(), 3u);
  for (const auto& result : out) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->result(), v1::AppendResponse::OK);
  }
  EXPECT_EQ(out[2]->end(), 3u);
  EXPECT_EQ(Log(), "abc");
}

}  // namespace
}  // namespace riffle::cluster
