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
