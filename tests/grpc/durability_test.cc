// kill -9 loop over gRPC with --fsync=always: writers put records from several threads; as soon
// as the target number is acknowledged riffled is killed, mid-flight, and restarted on the same
// data directory. Every acknowledged record must then be readable exactly once, with the
// sequence number and shard it was acknowledged with, in each writer's order. Records whose
// call was cut off may or may not be there, but at most once.
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

constexpr int kRounds = 8;
constexpr int kWriters = 4;
constexpr int kAckedPerRound = 2000;
constexpr char kStream[] = "durable";

// "r<round>-w<writer>-<call>-<entry>": unique, so a record read back names its write.
std::string RecordName(int round, int writer, int call, int entry) {
  char name[64];
  std::snprintf(name, sizeof(name), "r%d-w%d-%d-%d", round, writer, call, entry);
  return name;
}

struct Acked {
  std::string shard_id;
  std::string sequence_number;
};

class GrpcDurabilityTest : public RiffledTest {
 protected:
  RiffledOptions Options() const override { return {.fsync = "always", .shard_quotas = "off"}; }
};

TEST_F(GrpcDurabilityTest, AcknowledgedRecordsSurviveKillNineExactlyOnceInOrder) {
  ASSERT_TRUE(CreateActiveStream(kStream, {.shard_count = 4}).ok());
  std::map<std::string, Acked> acked;                    // data -> where it was acknowledged
  std::set<std::string> attempted;                       // data of every record ever sent
  std::map<int, std::vector<std::string>> writer_order;  // acknowledged data per writer

  for (int round = 0; round < kRounds; ++round) {
    std::mutex mu;
    std::atomic<int> acked_this_round{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        // One partition key per writer: its records share a shard and must keep its order.
        const std::string key = "writer-" + std::to_string(w);
        for (int i = 0; !stop.load(); ++i) {
          // Half the writers batch, so both PutRecord and PutRecords are covered.
          const int batch_size = w % 2 == 0 ? 1 : 5;
          std::vector<client::RecordToPut> batch;
          for (int b = 0; b < batch_size; ++b) {
            batch.push_back({.data = RecordName(round, w, i, b), .partition_key = key});
          }
          {
            std::lock_guard<std::mutex> lock(mu);
            for (const client::RecordToPut& record : batch) {
              attempted.insert(record.data);
            }
          }
          std::vector<Acked> results;
          if (batch_size == 1) {
            StatusOr<client::PutRecordResult> put = client().PutRecord(kStream, batch[0]);
            if (!put.ok()) {
              return;  // riffled is gone
            }
            results.push_back({put->shard_id, put->sequence_number});
          } else {
            StatusOr<client::PutRecordsResult> put = client().PutRecords(kStream, batch);
            if (!put.ok() || put->failed_record_count > 0) {
              return;
            }
            for (const client::PutRecordsEntryResult& entry : put->records) {
              results.push_back({entry.shard_id, entry.sequence_number});
            }
          }
          std::lock_guard<std::mutex> lock(mu);
          for (size_t b = 0; b < batch.size(); ++b) {
            acked[batch[b].data] = results[b];
            writer_order[w].push_back(batch[b].data);
          }
          acked_this_round += static_cast<int>(batch.size());
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acked_this_round.load() < kAckedPerRound &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Kill with calls in flight; then let the writers see the failure and stop.
    riffled().Kill();
    stop = true;
    for (std::thread& writer : writers) {
      writer.join();
    }
    ASSERT_GE(acked_this_round.load(), kAckedPerRound) << "round " << round << " too slow";
    KillRiffled();
    StartRiffled();
    ASSERT_FALSE(HasFatalFailure());

    StatusOr<std::vector<client::Shard>> shards = client().ListShards(kStream);
    ASSERT_TRUE(shards.ok()) << shards.status().ToString();
    std::map<std::string, std::vector<std::string>> read_order_of_writer;
    std::set<std::string> seen;
    for (const client::Shard& shard : *shards) {
      StatusOr<std::vector<client::Record>> records = ReadShard(kStream, shard.shard_id);
      ASSERT_TRUE(records.ok()) << records.status().ToString();
      for (const client::Record& record : *records) {
        ASSERT_TRUE(attempted.count(record.data)) << "never written: " << record.data;
        ASSERT_TRUE(seen.insert(record.data).second) << "read twice: " << record.data;
        if (auto it = acked.find(record.data); it != acked.end()) {
          EXPECT_EQ(it->second.shard_id, shard.shard_id) << record.data;
          EXPECT_EQ(it->second.sequence_number, record.sequence_number) << record.data;
        }
        read_order_of_writer[record.partition_key].push_back(record.data);
      }
    }
    size_t missing = 0;
    for (const auto& [data, where] : acked) {
      if (!seen.count(data)) {
        ++missing;
        ADD_FAILURE() << "acknowledged record lost: " << data << " " << where.sequence_number;
        if (missing > 10) {
          break;
        }
      }
    }
    ASSERT_EQ(missing, 0u) << "round " << round;
    for (const auto& [writer, order] : writer_order) {
      std::vector<std::string> read_acked;
      for (const std::string& data : read_order_of_writer["writer-" + std::to_string(writer)]) {
        if (acked.count(data)) {
          read_acked.push_back(data);
        }
      }
      ASSERT_EQ(read_acked, order) << "writer " << writer << " out of order in round " << round;
    }
  }
}

}  // namespace
}  // namespace riffle::testing
