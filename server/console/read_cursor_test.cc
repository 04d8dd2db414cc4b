#include "server/console/read_cursor.h"

#include <gtest/gtest.h>

namespace riffle::console {
namespace {

constexpr char kSequenceNumber[] = "49590338271490256608559692538361571095921575989136588898";

TEST(ReadCursorTest, ShardsWithoutAnEntryStartWhereTheCursorStarts) {
  ReadCursor cursor(
      ShardPosition{.type = "AT_TIMESTAMP", .sequence_number = {}, .timestamp_ms = 1700000000000});
  cursor.Set("shardId-000000000001", ShardPosition{.type = "AFTER_SEQUENCE_NUMBER",
                                                   .sequence_number = kSequenceNumber,
                                                   .timestamp_ms = 0});
  EXPECT_EQ(cursor.PositionOf("shardId-000000000000")->timestamp_ms, 1700000000000);
  EXPECT_EQ(cursor.PositionOf("shardId-000000000001")->type, "AFTER_SEQUENCE_NUMBER");
}

TEST(ReadCursorTest, SurvivesItsTextForm) {
  ReadCursor cursor(ShardPosition{
      .type = "AT_SEQUENCE_NUMBER", .sequence_number = kSequenceNumber, .timestamp_ms = 0});
  cursor.Set("shardId-000000000002", ShardPosition{.type = "AFTER_SEQUENCE_NUMBER",
                                                   .sequence_number = kSequenceNumber,
                                                   .timestamp_ms = 0});
  cursor.StopAtUnlistedShards();
  StatusOr<ReadCursor> parsed = ReadCursor::Parse(cursor.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->ToString(), cursor.ToString());
  EXPECT_FALSE(parsed->PositionOf("shardId-000000000000").has_value());
  EXPECT_EQ(parsed->PositionOf("shardId-000000000002")->sequence_number, kSequenceNumber);
}

TEST(ReadCursorTest, TextItDidNotWriteIsInvalidArgument) {
  for (const char* text : {"", "LATEST", "AT_TIMESTAMP:soon", "TRIM_HORIZON,=TRIM_HORIZON",
                           "TRIM_HORIZON,shardId-000000000000", "AFTER_SEQUENCE_NUMBER"}) {
    StatusOr<ReadCursor> parsed = ReadCursor::Parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace riffle::console
