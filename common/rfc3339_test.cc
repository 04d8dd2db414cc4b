#include "common/rfc3339.h"

#include <gtest/gtest.h>

namespace riffle {
namespace {

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

}  // namespace
}  // namespace riffle
