#include "storage/format.h"

#include <gtest/gtest.h>

namespace riffle::storage {
namespace {

TEST(SequenceNumberTest, RoundTripsAndHas41Digits) {
  std::string seq = FormatSequenceNumber(7, 12345);
  EXPECT_EQ(seq, "10000000000000000000700000000000000012345");
  std::optional<SequencePosition> parsed = ParseSequenceNumber(seq);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->shard_ordinal, 7u);
  EXPECT_EQ(parsed->position, 12345u);
}

TEST(SequenceNumberTest, StringOrderIsNumericOrderAcrossShards) {
  // Within a shard, by position; across shards, a larger ordinal (a child) is always larger.
  EXPECT_LT(FormatSequenceNumber(0, 9), FormatSequenceNumber(0, 10));
  EXPECT_LT(FormatSequenceNumber(0, UINT64_MAX), FormatSequenceNumber(1, 0));
  EXPECT_LT(FormatSequenceNumber(1, 0), FormatSequenceNumber(1, 1));
}

TEST(SequenceNumberTest, RejectsOtherShapes) {
  EXPECT_FALSE(ParseSequenceNumber("").has_value());
  EXPECT_FALSE(ParseSequenceNumber("123").has_value());
  EXPECT_FALSE(ParseSequenceNumber("20000000000000000000700000000000000012345").has_value());
  EXPECT_FALSE(ParseSequenceNumber("1000000000000000000070000000000000001234x").has_value());
  EXPECT_FALSE(ParseSequenceNumber("19999999999999999999900000000000000000000").has_value());
}

TEST(HashKeyTest, ParsesTheFullRangeAndRejectsOverflow) {
  EXPECT_EQ(ParseHashKey("0"), HashKey{0});
  EXPECT_EQ(ParseHashKey("340282366920938463463374607431768211455"), kMaxHashKey);
  EXPECT_FALSE(ParseHashKey("340282366920938463463374607431768211456").has_value());
  EXPECT_FALSE(ParseHashKey("-1").has_value());
  EXPECT_FALSE(ParseHashKey("").has_value());
  EXPECT_EQ(FormatHashKey(kMaxHashKey), "340282366920938463463374607431768211455");
  EXPECT_EQ(FormatHashKey(0), "0");
}

TEST(HashKeyTest, EvenRangesMatchAwsForThreeShards) {
  auto ranges = EvenHashKeyRanges(3);
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(FormatHashKey(ranges[0].second), "113427455640312821154458202477256070484");
  EXPECT_EQ(FormatHashKey(ranges[1].first), "113427455640312821154458202477256070485");
  EXPECT_EQ(FormatHashKey(ranges[2].first), "226854911280625642308916404954512140970");
  EXPECT_EQ(ranges[2].second, kMaxHashKey);
}

TEST(HashKeyTest, TwoShardsSplitAtTwoToThe127) {
  auto ranges = EvenHashKeyRanges(2);
  EXPECT_EQ(FormatHashKey(ranges[1].first), "170141183460469231731687303715884105728");
}

TEST(HashKeyTest, RangesTileTheWholeSpaceForManyCounts) {
  for (uint32_t n : {1u, 2u, 3u, 4u, 5u, 7u, 16u, 100u, 1000u}) {
    auto ranges = EvenHashKeyRanges(n);
    ASSERT_EQ(ranges.size(), n);
    EXPECT_EQ(ranges.front().first, 0u);
    EXPECT_EQ(ranges.back().second, kMaxHashKey);
    for (size_t i = 1; i < ranges.size(); ++i) {
      EXPECT_EQ(ranges[i].first, ranges[i - 1].second + 1) << "n=" << n << " i=" << i;
      EXPECT_LT(ranges[i].first, ranges[i].second);
    }
  }
}

TEST(ShardIdTest, FormatsAndAcceptsTheShortForms) {
  EXPECT_EQ(FormatShardId(0), "shardId-000000000000");
  EXPECT_EQ(ParseShardId("shardId-000000000012"), 12u);
  EXPECT_EQ(ParseShardId("shardId-5"), 5u);
  EXPECT_EQ(ParseShardId("shard-5"), 5u);
  EXPECT_EQ(ParseShardId("5"), 5u);
  EXPECT_EQ(ParseShardId("a-00002147483647"), 2147483647u);
  EXPECT_EQ(ParseShardId("-00002147483647"), 2147483647u);
  EXPECT_EQ(ParseShardId("x.y-3-9"), 3u);  // the part after the first '-'
  EXPECT_EQ(ParseShardId("000"), 0u);
  EXPECT_FALSE(ParseShardId("shardId-").has_value());
  EXPECT_FALSE(ParseShardId("").has_value());
  EXPECT_FALSE(ParseShardId("shardId-abc").has_value());
  EXPECT_FALSE(ParseShardId("2147483648").has_value());
  EXPECT_FALSE(ParseShardId("shardId-002147483648").has_value());
  EXPECT_FALSE(ParseShardId("2.14E4").has_value());
}

TEST(RecordTest, RoundTripsBinaryData) {
  std::string data("\x00\x01\xffpayload", 10);
  std::string encoded = EncodeRecord(1700000000123, "user-1", data);
  std::optional<StoredRecord> record = DecodeRecord(encoded);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->arrival_ms, 1700000000123);
  EXPECT_EQ(record->partition_key, "user-1");
  EXPECT_EQ(record->data, data);
  EXPECT_EQ(DecodeRecordArrival(encoded), 1700000000123);
  EXPECT_FALSE(DecodeRecord("short").has_value());
}

TEST(GroupMetaTest, RoundTripsAndRejectsTruncation) {
  GroupMeta meta{.name = "billing",
                 .created_ms = 1700000000123,
                 .shards = {GroupShardMeta{.shard_ordinal = 3,
                                           .checkpoint = 42,
                                           .lease_owner = "host:17:abc",
                                           .lease_expires_ms = 1700000010000,
                                           .lease_counter = 9}}};
  const std::string encoded = EncodeGroupMeta(meta);
  std::optional<GroupMeta> decoded = DecodeGroupMeta(encoded);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->name, "billing");
  EXPECT_EQ(decoded->created_ms, 1700000000123);
  ASSERT_EQ(decoded->shards.size(), 1u);
  EXPECT_EQ(decoded->shards[0].shard_ordinal, 3u);
  EXPECT_EQ(decoded->shards[0].checkpoint, 42u);
  EXPECT_EQ(decoded->shards[0].lease_owner, "host:17:abc");
  EXPECT_EQ(decoded->shards[0].lease_expires_ms, 1700000010000);
  EXPECT_EQ(decoded->shards[0].lease_counter, 9u);
  EXPECT_FALSE(DecodeGroupMeta(encoded.substr(0, encoded.size() - 1)).has_value());
  EXPECT_EQ(GroupCatalogKey(26, "billing"), "group/000000000000001a/billing");
}

TEST(RecordKeyTest, KeyOrderIsStreamShardThenOffsetOrder) {
  EXPECT_LT(EncodeRecordKey(1, 0, 255), EncodeRecordKey(1, 0, 256));
  EXPECT_LT(EncodeRecordKey(1, 0, ~uint64_t{0}), EncodeRecordKey(1, 1, 0));
  EXPECT_LT(EncodeRecordKey(1, ~uint32_t{0}, 7), EncodeRecordKey(2, 0, 0));
  EXPECT_TRUE(EncodeRecordKey(3, 4, 5).starts_with(ShardKeyPrefix(3, 4)));
  EXPECT_LT(EncodeRecordKey(3, 4, ~uint64_t{0}), ShardKeyLimit(3, 4));
  EXPECT_EQ(ShardKeyLimit(3, ~uint32_t{0}), ShardKeyPrefix(4, 0));
  const std::optional<RecordKey> key = DecodeRecordKey(EncodeRecordKey(1ull << 40, 70000, 1234567));
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->stream_id, 1ull << 40);
  EXPECT_EQ(key->shard_ordinal, 70000u);
  EXPECT_EQ(key->offset, 1234567u);
  EXPECT_FALSE(DecodeRecordKey(ShardKeyPrefix(1, 0)).has_value());
}

TEST(RecordKeyTest, LegacyShardColumnFamilyNamesParse) {
  EXPECT_EQ(ParseLegacyShardColumnFamilyName(LegacyShardColumnFamilyName(12, 3)),
            (std::pair<uint64_t, uint32_t>{12, 3}));
  for (const char* other : {"catalog", "default", "records", "shard-1", "shard-1-", "shard--1-2",
                            "shard-1-2x", "shard-1-99999999999"}) {
    EXPECT_FALSE(ParseLegacyShardColumnFamilyName(other).has_value()) << other;
  }
}

TEST(StreamMetaTest, RoundTripsEveryField) {
  StreamMeta meta;
  meta.id = 42;
  meta.name = "orders";
  meta.status = "ACTIVE";
  meta.mode = "PROVISIONED";
  meta.retention_hours = 48;
  meta.created_ms = 1700000000000;
  meta.tags = {{"team", "data"}, {"env", ""}};
  meta.shard_level_metrics = {"IncomingBytes"};
  meta.encryption_type = "KMS";
  meta.key_id = "alias/aws/kinesis";
  meta.next_shard_ordinal = 3;
  ShardMeta shard;
  shard.ordinal = 2;
  shard.starting_hash_key = 5;
  shard.ending_hash_key = kMaxHashKey;
  shard.parent_ordinal = 0;
  shard.ending_position = 99;
  meta.shards = {ShardMeta{}, shard};
  meta.next_consumer_registration = 8;
  meta.consumers = {ConsumerMeta{"app", 1700000000123, 7, R"({"Version":"2012-10-17"})"}};
  meta.resource_policy = R"({"Statement":[]})";
  meta.warm_throughput_mibps = 250;
  std::optional<StreamMeta> decoded = DecodeStreamMeta(EncodeStreamMeta(meta));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->name, "orders");
  EXPECT_EQ(decoded->tags, meta.tags);
  EXPECT_EQ(decoded->shard_level_metrics, meta.shard_level_metrics);
  EXPECT_EQ(decoded->key_id, meta.key_id);
  ASSERT_EQ(decoded->shards.size(), 2u);
  EXPECT_FALSE(decoded->shards[0].parent_ordinal.has_value());
  EXPECT_EQ(decoded->shards[1].parent_ordinal, 0u);
  EXPECT_EQ(decoded->shards[1].ending_hash_key, kMaxHashKey);
  EXPECT_EQ(decoded->shards[1].ending_position, 99u);
  ASSERT_EQ(decoded->consumers.size(), 1u);
  EXPECT_EQ(decoded->consumers[0].name, "app");
  EXPECT_EQ(decoded->consumers[0].created_ms, 1700000000123);
  EXPECT_EQ(decoded->consumers[0].registration, 7u);
  EXPECT_EQ(decoded->next_consumer_registration, 8u);
  EXPECT_EQ(decoded->consumers[0].resource_policy, meta.consumers[0].resource_policy);
  EXPECT_EQ(decoded->resource_policy, meta.resource_policy);
  EXPECT_EQ(decoded->warm_throughput_mibps, 250);
  std::string truncated = EncodeStreamMeta(meta);
  truncated.pop_back();
  EXPECT_FALSE(DecodeStreamMeta(truncated).has_value());
}

// A stream with its own replication factor is written as version 3; one without stays
// version 2, which riffled before version 3 reads.
TEST(StreamMetaTest, ReplicationFactorOnlyWhenSet) {
  StreamMeta meta;
  meta.id = 9;
  meta.name = "copies";
  EXPECT_EQ(EncodeStreamMeta(meta)[0], 2);
  meta.replication_factor = 2;
  const std::string encoded = EncodeStreamMeta(meta);
  EXPECT_EQ(encoded[0], 3);
  std::optional<StreamMeta> decoded = DecodeStreamMeta(encoded);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->replication_factor, 2u);
  meta.replication_factor = 0;
  decoded = DecodeStreamMeta(EncodeStreamMeta(meta));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->replication_factor, 0u);
}

// Data dirs written before resource policies keep their streams: version 1 is version 2
// without the policy and warm throughput members.
TEST(StreamMetaTest, DecodesVersionOne) {
  StreamMeta meta;
  meta.id = 7;
  meta.name = "old";
  meta.status = "ACTIVE";
  meta.mode = "ON_DEMAND";
  meta.shards = {ShardMeta{}};
  std::string encoded = EncodeStreamMeta(meta);
  ASSERT_EQ(encoded.substr(encoded.size() - 2), std::string(2, '\0'));
  std::string version_one = encoded.substr(0, encoded.size() - 2);
  version_one[0] = 1;
  std::optional<StreamMeta> decoded = DecodeStreamMeta(version_one);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->name, "old");
  EXPECT_EQ(decoded->shards.size(), 1u);
  EXPECT_EQ(decoded->resource_policy, "");
  EXPECT_EQ(decoded->warm_throughput_mibps, 0);
  version_one[0] = 3;  // a version from the future is not guessed at
  EXPECT_FALSE(DecodeStreamMeta(version_one).has_value());
}

TEST(AccountMetaTest, RoundTrips) {
  AccountMeta meta{"ENABLED_UNTIL_EARLIEST_ALLOWED_END", 1000, 0, 86401000};
  std::optional<AccountMeta> decoded = DecodeAccountMeta(EncodeAccountMeta(meta));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->commitment_status, meta.commitment_status);
  EXPECT_EQ(decoded->commitment_started_ms, 1000);
  EXPECT_EQ(decoded->commitment_earliest_end_ms, 86401000);
  EXPECT_FALSE(DecodeAccountMeta(EncodeAccountMeta(meta).substr(1)).has_value());
}

}  // namespace
}  // namespace riffle::storage
