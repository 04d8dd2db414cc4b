// Writing and reading records through the C++ client against the real riffled: order within a
// shard, PutRecords batches, routing, and every shard iterator type.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

using ::testing::ElementsAreArray;

std::vector<std::string> DataOf(const std::vector<client::Record>& records) {
  std::vector<std::string> data;
  for (const client::Record& record : records) {
    data.push_back(record.data);
  }
  return data;
}

std::vector<std::string> SequenceNumbersOf(const std::vector<client::Record>& records) {
  std::vector<std::string> numbers;
  for (const client::Record& record : records) {
    numbers.push_back(record.sequence_number);
  }
  return numbers;
}

// Sequence numbers compare as big integers: by length, then digit by digit.
bool SequenceLess(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

class GrpcPutGetTest : public RiffledTest {
 protected:
  // Puts `data` one PutRecord at a time with key "k"; returns the sequence numbers.
  std::vector<std::string> PutEach(const std::string& stream,
                                   const std::vector<std::string>& data) {
    std::vector<std::string> numbers;
    for (const std::string& item : data) {
      StatusOr<client::PutRecordResult> put =
          client().PutRecord(stream, {.data = item, .partition_key = "k"});
      EXPECT_TRUE(put.ok()) << put.status().ToString();
      if (put.ok()) {
        numbers.push_back(put->sequence_number);
      }
    }
    return numbers;
  }
};

TEST_F(GrpcPutGetTest, RecordsOfOneShardComeBackInOrderWithTheirSequenceNumbers) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  std::vector<std::string> data;
  for (int i = 0; i < 30; ++i) {
    data.push_back("record-" + std::to_string(i));
  }
  const std::vector<std::string> numbers = PutEach("orders", data);
  ASSERT_EQ(numbers.size(), data.size());
  for (size_t i = 1; i < numbers.size(); ++i) {
    EXPECT_TRUE(SequenceLess(numbers[i - 1], numbers[i])) << numbers[i - 1] << " " << numbers[i];
  }

  StatusOr<std::vector<client::Record>> records = ReadAll("orders");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_THAT(DataOf(*records), ElementsAreArray(data));
  EXPECT_THAT(SequenceNumbersOf(*records), ElementsAreArray(numbers));
  EXPECT_EQ((*records)[0].partition_key, "k");
  EXPECT_GT((*records)[0].arrival_time_ms, 0);
}

TEST_F(GrpcPutGetTest, RecordsOfOnePutRecordsCallKeepTheirOrderInEveryShard) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 4}).ok());
  std::vector<client::RecordToPut> batch;
  for (int i = 0; i < 500; ++i) {
    batch.push_back({.data = std::to_string(i), .partition_key = "user-" + std::to_string(i % 7)});
  }
  StatusOr<client::PutRecordsResult> put = client().PutRecords("orders", batch);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_EQ(put->failed_record_count, 0);
  ASSERT_EQ(put->records.size(), batch.size());

  // Expected per shard: the request order of the records routed there, with their numbers.
  std::map<std::string, std::vector<std::string>> expected_data;
  std::map<std::string, std::vector<std::string>> expected_numbers;
  for (size_t i = 0; i < batch.size(); ++i) {
    expected_data[put->records[i].shard_id].push_back(batch[i].data);
    expected_numbers[put->records[i].shard_id].push_back(put->records[i].sequence_number);
  }
  EXPECT_GT(expected_data.size(), 1u) << "seven keys should reach more than one of four shards";
  for (const auto& [shard_id, data] : expected_data) {
    StatusOr<std::vector<client::Record>> records = ReadShard("orders", shard_id);
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    EXPECT_THAT(DataOf(*records), ElementsAreArray(data)) << shard_id;
    EXPECT_THAT(SequenceNumbersOf(*records), ElementsAreArray(expected_numbers[shard_id]));
  }
}

TEST_F(GrpcPutGetTest, SamePartitionKeyAlwaysLandsOnTheSameShard) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 8}).ok());
  std::string first_shard;
  for (int i = 0; i < 10; ++i) {
    StatusOr<client::PutRecordResult> put =
        client().PutRecord("orders", {.data = "x", .partition_key = "customer-42"});
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    if (i == 0) {
      first_shard = put->shard_id;
    }
    EXPECT_EQ(put->shard_id, first_shard);
  }
}

TEST_F(GrpcPutGetTest, ExplicitHashKeyPicksTheShardThatOwnsIt) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  StatusOr<client::PutRecordResult> low =
      client().PutRecord("orders", {.data = "low", .partition_key = "k", .explicit_hash_key = "0"});
  ASSERT_TRUE(low.ok()) << low.status().ToString();
  EXPECT_EQ(low->shard_id, "shardId-000000000000");
  StatusOr<client::PutRecordResult> high = client().PutRecord(
      "orders", {.data = "high",
                 .partition_key = "k",
                 .explicit_hash_key = "340282366920938463463374607431768211455"});
  ASSERT_TRUE(high.ok()) << high.status().ToString();
  EXPECT_EQ(high->shard_id, "shardId-000000000001");
}

TEST_F(GrpcPutGetTest, BinaryAndEmptyDataRoundTripByteForByte) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  std::string binary;
  for (int i = 0; i < 256; ++i) {
    binary.push_back(static_cast<char>(i));
  }
  const std::vector<std::string> data = {binary, "", std::string(1000 * 1000, 'z')};
  ASSERT_EQ(PutEach("orders", data).size(), data.size());
  StatusOr<std::vector<client::Record>> records = ReadAll("orders");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_THAT(DataOf(*records), ElementsAreArray(data));
}

TEST_F(GrpcPutGetTest, TrimHorizonStartsAtTheOldestRecord) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  ASSERT_EQ(PutEach("orders", {"a", "b", "c"}).size(), 3u);
  StatusOr<std::vector<client::Record>> records =
      ReadShard("orders", "shardId-000000000000", client::IteratorPosition::TrimHorizon());
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_THAT(DataOf(*records), ElementsAreArray({"a", "b", "c"}));
}

TEST_F(GrpcPutGetTest, LatestSeesOnlyRecordsWrittenAfterTheIterator) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  ASSERT_EQ(PutEach("orders", {"old-1", "old-2"}).size(), 2u);
  StatusOr<std::string> iterator = client().GetShardIterator("orders", "shardId-000000000000",
                                                             client::IteratorPosition::Latest());
  ASSERT_TRUE(iterator.ok()) << iterator.status().ToString();
  StatusOr<client::GetRecordsResult> empty = client().GetRecords(*iterator);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->records.empty());
  EXPECT_FALSE(empty->next_shard_iterator.empty());

  ASSERT_EQ(PutEach("orders", {"new-1", "new-2"}).size(), 2u);
  // The iterator is a position, not a cursor: the old one still reads from where it pointed.
  StatusOr<client::GetRecordsResult> fresh = client().GetRecords(*iterator);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_THAT(DataOf(fresh->records), ElementsAreArray({"new-1", "new-2"}));
}

TEST_F(GrpcPutGetTest, AtAndAfterSequenceNumberStartAtAndPastTheRecord) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  const std::vector<std::string> numbers = PutEach("orders", {"r0", "r1", "r2", "r3", "r4"});
  ASSERT_EQ(numbers.size(), 5u);

  StatusOr<std::vector<client::Record>> at = ReadShard(
      "orders", "shardId-000000000000", client::IteratorPosition::AtSequenceNumber(numbers[2]));
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_THAT(DataOf(*at), ElementsAreArray({"r2", "r3", "r4"}));

  StatusOr<std::vector<client::Record>> after = ReadShard(
      "orders", "shardId-000000000000", client::IteratorPosition::AfterSequenceNumber(numbers[2]));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_THAT(DataOf(*after), ElementsAreArray({"r3", "r4"}));

  StatusOr<std::vector<client::Record>> after_last = ReadShard(
      "orders", "shardId-000000000000", client::IteratorPosition::AfterSequenceNumber(numbers[4]));
  ASSERT_TRUE(after_last.ok()) << after_last.status().ToString();
  EXPECT_TRUE(after_last->empty());
}

TEST_F(GrpcPutGetTest, AtTimestampStartsAtTheFirstRecordThatArrivedAtOrAfterIt) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  ASSERT_EQ(PutEach("orders", {"before-1", "before-2"}).size(), 2u);
  StatusOr<std::vector<client::Record>> before = ReadAll("orders");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->size(), 2u);
  const int64_t cut = before->back().arrival_time_ms + 1;
  // Riffled stamps arrival times with this machine's clock: wait until it has passed the cut.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
                 .count() <= cut &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(PutEach("orders", {"after-1", "after-2"}).size(), 2u);

  StatusOr<std::vector<client::Record>> records =
      ReadShard("orders", "shardId-000000000000", client::IteratorPosition::AtTimestamp(cut));
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_THAT(DataOf(*records), ElementsAreArray({"after-1", "after-2"}));

  StatusOr<std::vector<client::Record>> from_start =
      ReadShard("orders", "shardId-000000000000", client::IteratorPosition::AtTimestamp(0));
  ASSERT_TRUE(from_start.ok()) << from_start.status().ToString();
  EXPECT_EQ(from_start->size(), 4u);
}

TEST_F(GrpcPutGetTest, GetRecordsHonoursTheLimitAndContinuesFromTheNextIterator) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 1}).ok());
  std::vector<client::RecordToPut> batch;
  for (int i = 0; i < 25; ++i) {
    batch.push_back({.data = std::to_string(i), .partition_key = "k"});
  }
  ASSERT_TRUE(client().PutRecords("orders", batch).ok());
  StatusOr<std::string> iterator = client().GetShardIterator(
      "orders", "shardId-000000000000", client::IteratorPosition::TrimHorizon());
  ASSERT_TRUE(iterator.ok());
  std::vector<std::string> seen;
  std::string position = *iterator;
  for (int page = 0; page < 3; ++page) {
    StatusOr<client::GetRecordsResult> result = client().GetRecords(position, 10);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->records.size(), page < 2 ? 10u : 5u);
    for (const client::Record& record : result->records) {
      seen.push_back(record.data);
    }
    position = result->next_shard_iterator;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "0");
  EXPECT_EQ(seen.back(), "24");
}

TEST_F(GrpcPutGetTest, RecordsSurviveACleanRestart) {
  ASSERT_TRUE(CreateActiveStream("orders", {.shard_count = 2}).ok());
  std::vector<client::RecordToPut> batch;
  for (int i = 0; i < 100; ++i) {
    batch.push_back({.data = std::to_string(i), .partition_key = std::to_string(i)});
  }
  ASSERT_TRUE(client().PutRecords("orders", batch).ok());
  StatusOr<std::vector<client::Record>> before = ReadAll("orders");
  ASSERT_TRUE(before.ok());
  StopRiffled();
  StartRiffled();
  ASSERT_FALSE(HasFatalFailure());
  StatusOr<std::vector<client::Record>> after = ReadAll("orders");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_THAT(SequenceNumbersOf(*after), ElementsAreArray(SequenceNumbersOf(*before)));
  EXPECT_EQ(after->size(), 100u);
}

// Visibility invariant: with writers racing on one shard, a reader that follows its iterators
// must never pass a record that becomes visible later; it would never go back for it.
TEST_F(GrpcPutGetTest, ConcurrentReaderNeverSkipsARecordThatBecomesVisibleLater) {
  ASSERT_TRUE(CreateActiveStream("race", {.shard_count = 1}).ok());
  constexpr int kWriters = 4;
  constexpr int kCallsPerWriter = 150;
  std::mutex mu;
  std::set<std::string> acked;  // sequence numbers
  std::atomic<int> writers_done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const std::string data = std::string("w").append(std::to_string(w));
      for (int call = 0; call < kCallsPerWriter; ++call) {
        std::vector<client::RecordToPut> batch(1 + call % 4, {.data = data, .partition_key = "k"});
        StatusOr<client::PutRecordsResult> put = client().PutRecords("race", batch);
        if (!put.ok()) {
          ADD_FAILURE() << put.status().ToString();
          break;
        }
        std::lock_guard<std::mutex> lock(mu);
        for (const client::PutRecordsEntryResult& entry : put->records) {
          acked.insert(entry.sequence_number);
        }
      }
      ++writers_done;
    });
  }

  // No ASSERT until the writers are joined: returning early would destroy joinable threads.
  StatusOr<std::string> iterator = client().GetShardIterator(
      "race", "shardId-000000000000", client::IteratorPosition::TrimHorizon());
  EXPECT_TRUE(iterator.ok()) << iterator.status().ToString();
  std::vector<std::string> read;
  std::string position = iterator.ok() ? *iterator : "";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!position.empty() && std::chrono::steady_clock::now() < deadline) {
    const bool writing = writers_done.load() < kWriters;
    StatusOr<client::GetRecordsResult> result = client().GetRecords(position);
    if (!result.ok()) {
      ADD_FAILURE() << result.status().ToString();
      break;
    }
    for (const client::Record& record : result->records) {
      read.push_back(record.sequence_number);
    }
    position = result->next_shard_iterator;
    if (!writing && result->records.empty()) {
      break;  // every write had finished before this read, which found nothing more
    }
  }
  for (std::thread& writer : writers) {
    writer.join();
  }
  ASSERT_FALSE(HasFailure());
  for (size_t i = 1; i < read.size(); ++i) {
    ASSERT_TRUE(SequenceLess(read[i - 1], read[i])) << read[i - 1] << " then " << read[i];
  }
  EXPECT_EQ(read.size(), acked.size());
  EXPECT_EQ(std::set<std::string>(read.begin(), read.end()), acked)
      << "the reader skipped records that became visible after it passed them";
}

}  // namespace
}  // namespace riffle::testing
