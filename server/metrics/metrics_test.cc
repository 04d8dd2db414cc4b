#include "server/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace riffle::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<MetricsServer> Counting() {
  StatusOr<std::unique_ptr<MetricsServer>> metrics = MetricsServer::Start("127.0.0.1", 0);
  EXPECT_TRUE(metrics.ok());
  return std::move(metrics).value();
}

TEST(MetricsTest, CountsStreamTrafficWithoutShardLabelsByDefault) {
  auto metrics = Counting();
  metrics->RecordsWritten({"orders", "shardId-000000000000", false, 3, 300});
  metrics->RecordsWritten({"orders", "shardId-000000000001", false, 2, 200});
  metrics->RecordsRead({"orders", "shardId-000000000000", false, 5, 500}, 1234);
  std::string text = metrics->Render();
  EXPECT_THAT(text, HasSubstr("riffle_incoming_bytes_total{stream=\"orders\"} 500"));
  EXPECT_THAT(text, HasSubstr("riffle_incoming_records_total{stream=\"orders\"} 5"));
  EXPECT_THAT(text, HasSubstr("riffle_get_records_records_total{stream=\"orders\"} 5"));
  EXPECT_THAT(text, Not(HasSubstr("shard=")));
}

TEST(MetricsTest, PutRecordsCountsEachRecordByOutcome) {
  auto metrics = Counting();
  metrics->PutTallied(broker::Operation::kPutRecords, "orders",
                      {.successful = 3, .throttled = 2, .failed = 1, .bytes = 300});
  metrics->PutTallied(broker::Operation::kPutRecord, "orders", {.successful = 1, .bytes = 40});
  std::string text = metrics->Render();
  EXPECT_THAT(text, HasSubstr("riffle_put_records_records_total{outcome=\"successful\",stream=\"orders\"} 3"));
  EXPECT_THAT(text, HasSubstr("riffle_put_records_records_total{outcome=\"throttled\",stream=\"orders\"} 2"));
  EXPECT_THAT(text, HasSubstr("riffle_put_records_records_total{outcome=\"failed\",stream=\"orders\"} 1"));
  EXPECT_THAT(text, HasSubstr("riffle_put_records_bytes_total{stream=\"orders\"} 300"));
  EXPECT_THAT(text, HasSubstr("riffle_put_record_bytes_total{stream=\"orders\"} 40"));
}

TEST(MetricsTest, SubscriptionEventsHaveTheirOwnSeries) {
  auto metrics = Counting();
  metrics->SubscriptionEventSent({"orders", "shardId-000000000000", false, 4, 400}, 900);
  metrics->SubscriptionEventSent({"orders", "shardId-000000000000", false, 0, 0}, 0);
  std::string text = metrics->Render();
  EXPECT_THAT(text, HasSubstr("riffle_subscribe_to_shard_event_records_total{stream=\"orders\"} 4"));
  EXPECT_THAT(text, HasSubstr("riffle_subscribe_to_shard_event_bytes_total{stream=\"orders\"} 400"));
  EXPECT_THAT(text, HasSubstr("riffle_subscribe_to_shard_events_total{stream=\"orders\"} 2"));
  EXPECT_THAT(text, HasSubstr("riffle_subscribe_to_shard_event_millis_behind_latest{stream=\"orders\"} 0"));
  EXPECT_THAT(text, HasSubstr("riffle_get_records_records_total{stream=\"orders\"} 0"));
}

TEST(MetricsTest, ADeletedStreamLeavesNoSeries) {
  auto metrics = Counting();
  for (const char* stream : {"gone", "kept"}) {
    metrics->RecordsWritten({stream, "shardId-000000000000", true, 1, 10});
    metrics->Call(broker::Operation::kPutRecord, stream, 0.001, ErrorCode::kOk);
    metrics->PutTallied(broker::Operation::kPutRecord, stream, {.successful = 1, .bytes = 10});
  }
  metrics->StreamDeleted("gone");
  std::string text = metrics->Render();
  EXPECT_THAT(text, Not(HasSubstr("stream=\"gone\"")));
  EXPECT_THAT(text, HasSubstr("riffle_incoming_bytes_total{stream=\"kept\"} 10"));
  EXPECT_THAT(text, HasSubstr("riffle_operation_calls_total{operation=\"PutRecord\",outcome=\"success\",stream=\"kept\"} 1"));
  // Counting for the name again starts from zero.
  metrics->RecordsWritten({"gone", "shardId-000000000000", false, 2, 20});
  EXPECT_THAT(metrics->Render(), HasSubstr("riffle_incoming_bytes_total{stream=\"gone\"} 20"));
}

TEST(MetricsTest, EnhancedMonitoringAddsShardSeries) {
  auto metrics = Counting();
  metrics->RecordsWritten({"s", "shardId-000000000001", true, 2, 20});
  metrics->Throttled({"s", "shardId-000000000001", true, 1, 0}, /*write=*/true);
  std::string text = metrics->Render();
  EXPECT_THAT(text, HasSubstr("riffle_incoming_bytes_total{shard=\"shardId-000000000001\",stream=\"s\"} 20"));
  EXPECT_THAT(text, HasSubstr("riffle_incoming_bytes_total{stream=\"s\"} 20"));
  EXPECT_THAT(text, HasSubstr("riffle_write_provisioned_throughput_exceeded_total{stream=\"s\"} 1"));
}

TEST(MetricsTest, CallsAreTimedByOperationAndOutcome) {
  auto metrics = Counting();
  metrics->Call(broker::Operation::kPutRecord, "s", 0.002, ErrorCode::kOk);
  metrics->Call(broker::Operation::kPutRecord, "s", 0.001, ErrorCode::kResourceNotFound);
  std::string text = metrics->Render();
  EXPECT_THAT(text, HasSubstr("riffle_operation_calls_total{operation=\"PutRecord\",outcome=\"success\",stream=\"s\"} 1"));
  EXPECT_THAT(text, HasSubstr("outcome=\"ResourceNotFoundException\""));
  EXPECT_THAT(text, HasSubstr("riffle_operation_latency_seconds_count{operation=\"PutRecord\",stream=\"s\"} 2"));
}

TEST(MetricsTest, ClusterGaugesComeFromTheSourceOnlyWhileOneIsSet) {
  auto metrics = Counting();
  EXPECT_THAT(metrics->Render(), Not(HasSubstr("riffle_cluster_")));
  metrics->SetClusterSource([] {
    return ClusterGauges{
        .nodes = 3,
        .is_controller = true,
        .lease_valid = true,
        .shards_owned = {{"n1", 2}, {"n2", 4}},
        .led_shards = {{.stream = "orders",
                        .shard_id = "shardId-000000000001",
                        .replicas = 3,
                        .in_sync = 2,
                        .follower_lag = {{"n2", 0}, {"n3", 17}}}},
        .elections = 5};
  });
  std::string text = metrics->Render();
  EXPECT_THAT(text, HasSubstr("riffle_cluster_nodes 3"));
  EXPECT_THAT(text, HasSubstr("riffle_cluster_is_controller 1"));
  EXPECT_THAT(text, HasSubstr("riffle_cluster_lease_valid 1"));
  EXPECT_THAT(text, HasSubstr("riffle_cluster_shards_owned{node=\"n1\"} 2"));
  EXPECT_THAT(text, HasSubstr("riffle_cluster_shards_owned{node=\"n2\"} 4"));
  EXPECT_THAT(text, HasSubstr("riffle_cluster_elections_total 5"));
  EXPECT_THAT(text, HasSubstr(
      "riffle_replication_replicas{stream=\"orders\",shard=\"shardId-000000000001\"} 3"));
  EXPECT_THAT(text, HasSubstr("riffle_replication_in_sync_replicas{stream=\"orders\","
                              "shard=\"shardId-000000000001\"} 2"));
  EXPECT_THAT(text, HasSubstr("riffle_replication_follower_lag_records{stream=\"orders\","
                              "shard=\"shardId-000000000001\",follower=\"n3\"} 17"));
  metrics->SetClusterSource(nullptr);
  EXPECT_THAT(metrics->Render(), Not(HasSubstr("riffle_cluster_")));
}

TEST(MetricsTest, LagsComeFromTheSourceAtEachScrape) {
  auto metrics = Counting();
  EXPECT_THAT(metrics->Render(), Not(HasSubstr("riffle_consumer_group_lag")));
  uint64_t records = 7;
  metrics->SetLagSource([&records] {
    return LagReport{.groups = {{.stream_name = "orders",
                                 .group_name = "billing",
                                 .shard_id = "shardId-000000000001",
                                 .records = records,
                                 .ms = 1500}},
                     .readers = {}};
  });
  const std::string labels =
      "{stream=\"orders\",group=\"billing\",shard=\"shardId-000000000001\"}";
  EXPECT_THAT(metrics->Render(), HasSubstr("riffle_consumer_group_lag_records" + labels + " 7"));
  EXPECT_THAT(metrics->Render(),
              HasSubstr("riffle_consumer_group_lag_milliseconds" + labels + " 1500"));
  records = 0;
  EXPECT_THAT(metrics->Render(), HasSubstr("riffle_consumer_group_lag_records" + labels + " 0"));
  metrics->SetLagSource(nullptr);
  EXPECT_THAT(metrics->Render(), Not(HasSubstr("riffle_consumer_group_lag")));
}

TEST(MetricsTest, IteratorAgeIsTheFurthestBehindShardAndConsumersAreSummed) {
  auto metrics = Counting();
  metrics->SetLagSource([] {
    return LagReport{
        .groups = {},
        .readers = {{.stream_name = "orders", .shard_id = "shardId-000000000000",
                     .shard_level = false, .consumer = "", .records = 3, .ms = 200},
                    {.stream_name = "orders", .shard_id = "shardId-000000000001",
                     .shard_level = false, .consumer = "", .records = 9, .ms = 5000},
                    {.stream_name = "orders", .shard_id = "shardId-000000000000",
                     .shard_level = false, .consumer = "app", .records = 4, .ms = 700},
                    {.stream_name = "orders", .shard_id = "shardId-000000000001",
                     .shard_level = false, .consumer = "app", .records = 6, .ms = 300}}};
  });
  std::string text = metrics->Render();
  EXPECT_THAT(text, HasSubstr("riffle_get_records_iterator_age_milliseconds{stream=\"orders\"} 5000"));
  EXPECT_THAT(text, Not(HasSubstr("riffle_get_records_iterator_age_milliseconds{shard")));
  EXPECT_THAT(text, HasSubstr("riffle_consumer_lag_records{stream=\"orders\",consumer=\"app\"} 10"));
  EXPECT_THAT(text, HasSubstr("riffle_consumer_lag_milliseconds{stream=\"orders\",consumer=\"app\"} 700"));
  metrics->SetLagSource(nullptr);
}

}  // namespace
}  // namespace riffle::metrics
