#include "client/cli/start_position.h"

#include <gtest/gtest.h>

namespace riffle::cli {
namespace {

using client::IteratorType;

TEST(StartPositionTest, NamedPositions) {
  StatusOr<client::IteratorPosition> trim = ParseStartPosition("trim-horizon");
  ASSERT_TRUE(trim.ok());
  EXPECT_EQ(trim->type, IteratorType::kTrimHorizon);
  StatusOr<client::IteratorPosition> latest = ParseStartPosition("latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->type, IteratorType::kLatest);
}

TEST(StartPositionTest, SequenceNumberIsPassedThroughAsText) {
  StatusOr<client::IteratorPosition> position =
      ParseStartPosition("seq:10000000000000000000000000000000000000005");
  ASSERT_TRUE(position.ok());
  EXPECT_EQ(position->type, IteratorType::kAtSequenceNumber);
  EXPECT_EQ(position->sequence_number, "10000000000000000000000000000000000000005");
}

TEST(StartPositionTest, TimestampAcceptsRfc3339AndMillis) {
  StatusOr<client::IteratorPosition> position =
      ParseStartPosition("timestamp:2024-05-01T12:00:00.250+09:00");
  ASSERT_TRUE(position.ok()) << position.status().ToString();
  EXPECT_EQ(position->type, IteratorType::kAtTimestamp);
  EXPECT_EQ(position->timestamp_ms, 1714532400250);
  position = ParseStartPosition("timestamp:1714532400250");
  ASSERT_TRUE(position.ok());
  EXPECT_EQ(position->timestamp_ms, 1714532400250);
}

TEST(StartPositionTest, UnknownSpecIsAValidationErrorNamingTheForms) {
  StatusOr<client::IteratorPosition> position = ParseStartPosition("beginning");
  ASSERT_FALSE(position.ok());
  EXPECT_EQ(position.status().code(), ErrorCode::kValidation);
  EXPECT_NE(position.status().message().find("trim-horizon"), std::string::npos);
  EXPECT_FALSE(ParseStartPosition("seq:").ok());
  EXPECT_FALSE(ParseStartPosition("timestamp:").ok());
}

TEST(Rfc3339Test, UtcAndOffsetsAgree) {
  StatusOr<int64_t> utc = ParseRfc3339Millis("1970-01-01T00:00:01Z");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(*utc, 1000);
  StatusOr<int64_t> offset = ParseRfc3339Millis("1970-01-01T01:00:01+01:00");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, 1000);
  StatusOr<int64_t> spaced = ParseRfc3339Millis("2024-02-29 23:59:59.5-00:30");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(*spaced, 1709251199500 + 30 * 60 * 1000);
}

TEST(Rfc3339Test, RejectsMalformedTimes) {
  EXPECT_FALSE(ParseRfc3339Millis("2024-05-01").ok());
  EXPECT_FALSE(ParseRfc3339Millis("2024-05-01T12:00:00").ok());  // no zone
  EXPECT_FALSE(ParseRfc3339Millis("2024-13-01T12:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339Millis("2024-05-01T12:00:00.Z").ok());
  EXPECT_FALSE(ParseRfc3339Millis("2024-05-01T12:00:00Zjunk").ok());
}

TEST(Rfc3339Test, FormatRoundTrips) {
  EXPECT_EQ(FormatRfc3339Millis(1714532400250), "2024-05-01T03:00:00.250Z");
  StatusOr<int64_t> parsed = ParseRfc3339Millis(FormatRfc3339Millis(1714532400007));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, 1714532400007);
}

TEST(LambdaStartingPositionTest, TakesLambdasThreeNamesAndATimestampOnlyWithTheLast) {
  EXPECT_EQ(ParseLambdaStartingPosition("TRIM_HORIZON", "")->type,
            client::IteratorType::kTrimHorizon);
  EXPECT_EQ(ParseLambdaStartingPosition("LATEST", "")->type, client::IteratorType::kLatest);
  StatusOr<client::IteratorPosition> at =
      ParseLambdaStartingPosition("AT_TIMESTAMP", "1970-01-01T00:00:01Z");
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->timestamp_ms, 1000);
  EXPECT_EQ(ParseLambdaStartingPosition("AT_TIMESTAMP", "").status().message(),
            "--starting-position AT_TIMESTAMP needs --timestamp");
  EXPECT_EQ(ParseLambdaStartingPosition("LATEST", "1970-01-01T00:00:01Z").status().code(),
            ErrorCode::kValidation);
  EXPECT_EQ(ParseLambdaStartingPosition("trim-horizon", "").status().message(),
            "--starting-position takes TRIM_HORIZON, LATEST or AT_TIMESTAMP, not 'trim-horizon'");
}

}  // namespace
}  // namespace riffle::cli
