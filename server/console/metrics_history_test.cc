#include "server/console/metrics_history.h"

#include <gtest/gtest.h>

namespace riffle::console {
namespace {

using broker::GroupLag;
using broker::ShardTraffic;

constexpr int64_t kInterval = 5000;

MetricsHistoryOptions SmallOptions(int64_t max_shard_series = 100) {
  return MetricsHistoryOptions{.interval = std::chrono::milliseconds(kInterval),
                               .intervals = 4,
                               .max_shard_series = max_shard_series};
}

ShardTraffic Traffic(std::string_view stream, std::string_view shard, uint64_t records,
                     uint64_t bytes) {
  return ShardTraffic{
      .stream = stream, .shard_id = shard, .shard_level = false, .records = records, .bytes = bytes};
}

TEST(MetricsHistoryTest, SumsEachIntervalPerStreamAndShard) {
  MetricsHistory history(SmallOptions());
  history.RecordsWritten(Traffic("orders", "shardId-000000000000", 2, 100));
  history.RecordsWritten(Traffic("orders", "shardId-000000000001", 3, 50));
  history.RecordsRead(Traffic("orders", "shardId-000000000001", 3, 50), 700);
  history.Sample(10 * kInterval, {});
  history.RecordsWritten(Traffic("orders", "shardId-000000000001", 1, 10));
  history.Sample(11 * kInterval, {});

  const StreamHistory out = history.History("orders", 100);
  EXPECT_EQ(out.intervals, 2);
  EXPECT_EQ(out.start_ms, 9 * kInterval);
  ASSERT_TRUE(out.stream.has_value());
  EXPECT_EQ(out.stream->incoming_records, (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(out.stream->incoming_bytes, (std::vector<int64_t>{150, 10}));
  EXPECT_EQ(out.stream->iterator_age_ms,
            (std::vector<std::optional<int64_t>>{700, std::nullopt}));
  ASSERT_EQ(out.shards.size(), 2u);
  EXPECT_EQ(out.shards[0].shard_id, "shardId-000000000001");  // the busiest first
  EXPECT_EQ(out.shards[0].traffic.incoming_records, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(out.shards[1].traffic.incoming_records, (std::vector<int64_t>{2, 0}));
  EXPECT_FALSE(history.History("other", 100).stream.has_value());
}

TEST(MetricsHistoryTest, KeepsOnlyTheWindowAndForgetsIdleSeries) {
  MetricsHistory history(SmallOptions());
  history.RecordsWritten(Traffic("orders", "shardId-000000000000", 1, 1));
  history.Sample(1 * kInterval, {});
  for (int64_t k = 2; k <= 4; ++k) {
    history.Sample(k * kInterval, {});
  }
  EXPECT_EQ(history.History("orders", 100).stream->incoming_records,
            (std::vector<int64_t>{1, 0, 0, 0}));
  history.Sample(5 * kInterval, {});  // the record's interval leaves the window
  EXPECT_FALSE(history.History("orders", 100).stream.has_value());
  EXPECT_TRUE(history.History("orders", 100).shards.empty());
}

TEST(MetricsHistoryTest, CapsTheShardsWithAHistory) {
  MetricsHistory history(SmallOptions(/*max_shard_series=*/2));
  for (const char* shard : {"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"}) {
    history.RecordsWritten(Traffic("orders", shard, 1, 1));
  }
  history.Sample(kInterval, {});
  const StreamHistory out = history.History("orders", 100);
  EXPECT_EQ(out.shards.size(), 2u);
  EXPECT_EQ(out.shards_without_history, 1);
  EXPECT_EQ(out.stream->incoming_records, (std::vector<int64_t>{3}));  // the stream counts all
}

TEST(MetricsHistoryTest, ReadsOfIdleShardsKeepNoShardHistory) {
  MetricsHistory history(SmallOptions(/*max_shard_series=*/1));
  history.RecordsRead(Traffic("scan", "shardId-000000000000", 0, 0), 0);
  history.RecordsWritten(Traffic("orders", "shardId-000000000000", 1, 1));
  history.Sample(kInterval, {});
  EXPECT_TRUE(history.History("scan", 100).shards.empty());
  EXPECT_EQ(history.History("scan", 100).stream->iterator_age_ms,
            (std::vector<std::optional<int64_t>>{0}));
  EXPECT_EQ(history.History("orders", 100).shards.size(), 1u);
}

TEST(MetricsHistoryTest, SumsAGroupsLagOverItsShards) {
  MetricsHistory history(SmallOptions());
  history.Sample(kInterval, {GroupLag{.stream_name = "orders", .group_name = "billing",
                                      .shard_id = "shardId-000000000000", .records = 4, .ms = 10},
                             GroupLag{.stream_name = "orders", .group_name = "billing",
                                      .shard_id = "shardId-000000000001", .records = 6, .ms = 30}});
  history.Sample(2 * kInterval, {});
  const StreamHistory out = history.History("orders", 100);
  ASSERT_EQ(out.groups.size(), 1u);
  EXPECT_EQ(out.groups[0].group, "billing");
  EXPECT_EQ(out.groups[0].lag_records, (std::vector<std::optional<int64_t>>{10, std::nullopt}));
  EXPECT_EQ(out.groups[0].lag_ms, (std::vector<std::optional<int64_t>>{30, std::nullopt}));
}

}  // namespace
}  // namespace riffle::console
