#include "storage/shard_log.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "storage/store.h"

namespace riffle::storage {
namespace {

class ShardLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("riffle-shard-log-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    log_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    log_.reset();
    store_.reset();
    StoreOptions options;
    options.data_dir = dir_;
    options.fsync = FsyncMode::kNever;
    StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    StatusOr<std::shared_ptr<ShardLog>> log = store_->OpenShard(1, 0);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }
  // Appends `count` records carrying their own offset as data through the commit pipeline
  // (so the offset must be predicted: `first` is where they will land); returns the
  // reservation the committer made.
  // `padding` random letters follow each record's offset in its data.
  Reservation Append(uint32_t count, int64_t now_ms, size_t padding = 0) {
    return AppendAt(log_->committed_end(), count, now_ms, padding);
  }
  Reservation AppendAt(uint64_t first, uint32_t count, int64_t now_ms, size_t padding = 0) {
    ShardAppend append{log_, {}};
    std::mt19937 random(static_cast<unsigned>(first));
    for (uint32_t i = 0; i < count; ++i) {
      std::string data = std::to_string(first + i);
      for (size_t k = 0; k < padding; ++k) {
        data.push_back(static_cast<char>('a' + random() % 26));  // does not compress away
      }
      append.values.push_back(EncodeRecord(0, "pk", std::move(data)));
    }
    std::promise<Reservation> landed;
    std::vector<ShardAppend> appends;
    appends.push_back(std::move(append));
    store_->pipeline().Submit(std::move(appends), now_ms,
                              [&](const Status& s, const std::vector<Reservation>& r) {
                                EXPECT_TRUE(s.ok()) << s.ToString();
                                landed.set_value(r.front());
                              });
    return landed.get_future().get();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<ShardLog> log_;
};

TEST_F(ShardLogTest, ReaderStopsAtGapUntilEarlierWriterCommits) {
  Reservation first = log_->Reserve(5, 1000);  // offsets 0-4, never written
  Reservation second = AppendAt(5, 5, 1000);   // the committer takes 5-9
  EXPECT_EQ(second.first_offset, 5u);
  EXPECT_EQ(log_->committed_end(), 0u) << "the later range must wait for the gap below it";
  StatusOr<ReadResult> read = log_->Read(0, 100, 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->records.empty());

  log_->Finish(first, 5);  // abandoned: the watermark moves past it anyway
  EXPECT_EQ(log_->committed_end(), 10u);
  read = log_->Read(0, 100, 1 << 20);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 5u);
  EXPECT_EQ(read->records.front().offset, 5u);
  EXPECT_EQ(read->records.front().record.data, "5");
  EXPECT_EQ(read->next_offset, 10u);
}

TEST_F(ShardLogTest, CommitterStampsArrivalTimes) {
  Append(2, 1234);
  StatusOr<ReadResult> read = log_->Read(0, 100, 1 << 20);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 2u);
  EXPECT_EQ(read->records[0].record.arrival_ms, 1234);
  EXPECT_EQ(log_->last_arrival_ms(), 1234);
}

TEST_F(ShardLogTest, WaiterWakesOnlyWhenItsOffsetIsCommitted) {
  std::atomic<int> woken{0};
  ASSERT_TRUE(log_->NotifyWhenPast(0, [&] { ++woken; }));
  ASSERT_TRUE(log_->NotifyWhenPast(1, [&] { woken += 10; }));
  Append(1, 1000);  // offset 0
  EXPECT_EQ(woken.load(), 1) << "only the waiter for offset 0 is past";
  Append(1, 1000);  // offset 1
  EXPECT_EQ(woken.load(), 11);
  EXPECT_FALSE(log_->NotifyWhenPast(1, [&] { woken += 100; })) << "already readable";
  Append(1, 1000);
  EXPECT_EQ(woken.load(), 11) << "a waiter runs once";
}

TEST_F(ShardLogTest, DrainWaitsForQueuedAppends) {
  std::vector<std::future<void>> done;
  for (int i = 0; i < 20; ++i) {
    auto landed = std::make_shared<std::promise<void>>();
    done.push_back(landed->get_future());
    std::vector<ShardAppend> appends;
    appends.push_back(ShardAppend{log_, {EncodeRecord(0, "pk", "x")}});
    store_->pipeline().Submit(
        std::move(appends), 1000,
        [landed](const Status&, const std::vector<Reservation>&) { landed->set_value(); });
  }
  store_->pipeline().Drain();
  EXPECT_EQ(log_->committed_end(), 20u);
  for (auto& f : done) {
    EXPECT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  }
}

TEST_F(ShardLogTest, ArrivalTimesNeverDecrease) {
  Reservation a = log_->Reserve(1, 2000);
  Reservation b = log_->Reserve(1, 1500);  // the clock stepped back
  EXPECT_EQ(b.arrival_ms, a.arrival_ms);
  log_->Finish(a, 1);
  log_->Finish(b, 1);
}

TEST_F(ShardLogTest, ReadHonoursRecordAndByteLimits) {
  Append(10, 1000);
  StatusOr<ReadResult> read = log_->Read(0, 3, 1 << 20);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 3u);
  EXPECT_EQ(read->next_offset, 3u);
  EXPECT_FALSE(read->reached_end);
  read = log_->Read(3, 100, 1);  // one byte: still one record, never zero
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 1u);
  EXPECT_EQ(read->records[0].record.data, "3");
}

TEST_F(ShardLogTest, FindsFirstRecordAtOrAfterATime) {
  Append(3, 1000);  // 0-2 at 1000
  Append(3, 2000);  // 3-5 at 2000
  Append(3, 3000);  // 6-8 at 3000
  EXPECT_EQ(*log_->FindOffsetAtTime(0), 0u);
  EXPECT_EQ(*log_->FindOffsetAtTime(1500), 3u);
  EXPECT_EQ(*log_->FindOffsetAtTime(2000), 3u);
  EXPECT_EQ(*log_->FindOffsetAtTime(3000), 6u);
  EXPECT_EQ(*log_->FindOffsetAtTime(3001), 9u);
}

TEST_F(ShardLogTest, TrimDropsOldRecordsAndSurvivesReopen) {
  Append(3, 1000);
  Append(3, 5000);
  StatusOr<uint64_t> trimmed = log_->TrimBefore(2000);
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 3u);
  EXPECT_EQ(log_->trim_offset(), 3u);
  StatusOr<ReadResult> read = log_->Read(0, 100, 1 << 20);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->records.size(), 3u);
  EXPECT_EQ(read->records[0].offset, 3u);
  Reopen();
  EXPECT_EQ(log_->trim_offset(), 3u);
  EXPECT_EQ(log_->committed_end(), 6u);
}

TEST_F(ShardLogTest, TrimGivesTheTableFilesBack) {
  // 19.2 MiB: past the records' 16 MiB memtable, which RocksDB then flushes to a table file.
  Append(600, 1000, /*padding=*/32 * 1024);
  Append(1, 5000);
  for (int i = 0; i < 1000 && store_->StreamDiskBytes(1) <= 1'000'000u; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(store_->StreamDiskBytes(1), 1'000'000u);
  ASSERT_TRUE(log_->TrimBefore(2000).ok());
  // The store's drop thread compacts the trimmed range.
  for (int i = 0; i < 1000 && store_->StreamDiskBytes(1) >= 100'000u; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LT(store_->StreamDiskBytes(1), 100'000u);
}

TEST_F(ShardLogTest, ReopenContinuesOffsetsAfterTheLastRecord) {
  Append(4, 1000);
  Reopen();
  EXPECT_EQ(log_->committed_end(), 4u);
  EXPECT_EQ(log_->last_arrival_ms(), 1000);
  Reservation next = log_->Reserve(1, 900);
  EXPECT_EQ(next.first_offset, 4u);
  EXPECT_EQ(next.arrival_ms, 1000);
  log_->Finish(next, 1);
}

// Several writers and readers on one shard: every reader sees every record exactly once, in
// offset order, with no gap (the watermark invariant).
TEST_F(ShardLogTest, ConcurrentWritersAndReadersNeverSeeAGap) {
  constexpr int kWriters = 4;
  constexpr int kBatchesPerWriter = 200;
  std::atomic<int> writers_done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      for (int b = 0; b < kBatchesPerWriter; ++b) {
        uint32_t count = 1 + rng() % 5;
        if (rng() % 4 == 0) {
          std::this_thread::yield();  // vary how submissions interleave into groups
        }
        // Each record carries its writer and batch; the reader checks offsets are dense.
        std::vector<ShardAppend> appends;
        appends.push_back(ShardAppend{log_, {}});
        for (uint32_t i = 0; i < count; ++i) {
          appends[0].values.push_back(EncodeRecord(0, "pk", "w"));
        }
        std::promise<void> landed;
        store_->pipeline().Submit(std::move(appends), 1000,
                                  [&](const Status& s, const std::vector<Reservation>&) {
                                    EXPECT_TRUE(s.ok());
                                    landed.set_value();
                                  });
        landed.get_future().wait();
      }
      ++writers_done;
    });
  }
  std::vector<std::vector<uint64_t>> seen(2);
  for (auto& out : seen) {
    threads.emplace_back([&, out_ptr = &out] {
      uint64_t next = 0;
      while (true) {
        bool finished = writers_done.load() == kWriters;
        StatusOr<ReadResult> read = log_->Read(next, 50, 1 << 20);
        ASSERT_TRUE(read.ok());
        for (const ReadRecord& r : read->records) {
          ASSERT_EQ(r.offset, next) << "a reader skipped a record";
          ASSERT_EQ(r.record.data, "w");
          out_ptr->push_back(r.offset);
          ++next;
        }
        if (finished && read->reached_end) {
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  const uint64_t end = log_->committed_end();
  for (const auto& out : seen) {
    EXPECT_EQ(out.size(), end);
  }
}

TEST_F(ShardLogTest, DroppedShardsComeBackEmpty) {
  Append(3, 1000);
  ASSERT_TRUE(store_->OpenShard(1, 1).ok());
  Reopen();  // shard 1 is now unclaimed: opened at start, held by nobody
  ASSERT_TRUE(store_->DropShards(1, {0, 1, 7}).ok());  // 7 never existed
  log_.reset();
  Reopen();
  EXPECT_EQ(log_->committed_end(), 0u);
  StatusOr<ReadResult> read = log_->Read(0, 10, 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->records.empty());
}

TEST_F(ShardLogTest, AReplicatedWriteIsAnsweredAndReadableOnlyBelowTheHighWatermark) {
  log_->SetReplicated(true, 0);
  std::promise<Status> answered;
  std::vector<ShardAppend> appends;
  appends.push_back(ShardAppend{log_, {EncodeRecord(0, "pk", "a"), EncodeRecord(0, "pk", "b")}});
  store_->pipeline().Submit(
      std::move(appends), 1000,
      [&](const Status& s, const std::vector<Reservation>&) { answered.set_value(s); });
  std::future<Status> answer = answered.get_future();
  // Durable here, but not yet on a majority: neither answered nor readable.
  for (int i = 0; i < 200 && log_->durable_end() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(log_->durable_end(), 2u);
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(log_->committed_end(), 0u);
  log_->AdvanceHighWatermark(1);
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  StatusOr<ReadResult> read = log_->Read(0, 10, 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->records.size(), 1u);
  log_->AdvanceHighWatermark(5);  // never past what is durable here
  EXPECT_EQ(log_->committed_end(), 2u);
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(answer.get().ok());
}

TEST_F(ShardLogTest, AReplicatedWriteFailsWhenItsWaitIsEnded) {
  log_->SetReplicated(true, 0);
  std::promise<Status> answered;
  std::vector<ShardAppend> appends;
  appends.push_back(ShardAppend{log_, {EncodeRecord(0, "pk", "a")}});
  store_->pipeline().Submit(
      std::move(appends), 1000,
      [&](const Status& s, const std::vector<Reservation>&) { answered.set_value(s); });
  for (int i = 0; i < 200 && log_->durable_end() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  log_->FailAwaiting(Status(ErrorCode::kInternalFailure, "leadership lost"), /*older_than_ms=*/999);
  std::future<Status> answer = answered.get_future();
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "a wait that began at 1000 is not older than 999";
  log_->FailAwaiting(Status(ErrorCode::kInternalFailure, "leadership lost"));
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(answer.get().code(), ErrorCode::kInternalFailure);
  EXPECT_EQ(log_->committed_end(), 0u);
}

}  // namespace
}  // namespace riffle::storage
