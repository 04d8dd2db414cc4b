#include "client/bench/latency_histogram.h"

#include <gtest/gtest.h>

namespace riffle::bench {
namespace {

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (uint64_t v = 1; v <= 50; ++v) {
    histogram.Record(v);
  }
  EXPECT_EQ(histogram.QuantileMicros(0.5), 25u);
  EXPECT_EQ(histogram.QuantileMicros(1.0), 50u);
  EXPECT_EQ(histogram.max_micros(), 50u);
}

TEST(LatencyHistogramTest, QuantilesOfAWideRangeAreWithinThreePercent) {
  LatencyHistogram histogram;
  for (uint64_t v = 1; v <= 100000; ++v) {
    histogram.Record(v);
  }
  EXPECT_NEAR(static_cast<double>(histogram.QuantileMicros(0.5)), 50000, 1500);
  EXPECT_NEAR(static_cast<double>(histogram.QuantileMicros(0.99)), 99000, 3000);
  EXPECT_NEAR(static_cast<double>(histogram.QuantileMicros(0.999)), 99900, 3000);
  EXPECT_LE(histogram.QuantileMicros(0.999), 100000u);
}

TEST(LatencyHistogramTest, MergeAddsCountsAndKeepsTheTail) {
  LatencyHistogram fast;
  LatencyHistogram slow;
  for (int i = 0; i < 990; ++i) {
    fast.Record(100);
  }
  for (int i = 0; i < 10; ++i) {
    slow.Record(1000000);
  }
  fast.Merge(slow);
  EXPECT_EQ(fast.count(), 1000u);
  EXPECT_NEAR(static_cast<double>(fast.QuantileMicros(0.5)), 100, 3);
  EXPECT_NEAR(static_cast<double>(fast.QuantileMicros(0.999)), 1000000, 30000);
  EXPECT_EQ(fast.max_micros(), 1000000u);
}

TEST(LatencyHistogramTest, EmptyHistogramReportsZero) {
  EXPECT_EQ(LatencyHistogram().QuantileMicros(0.99), 0u);
}

}  // namespace
}  // namespace riffle::bench
