#include "client/bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace riffle::bench {

int LatencyHistogram::BucketOf(uint64_t micros) {
  if (micros < kExactBelow) {
    return static_cast<int>(micros);
  }
  const int exponent = std::bit_width(micros) - 1;                           // >= 6
  const int sub = static_cast<int>(micros >> (exponent - 5)) - kSubBuckets;  // 0..31
  return kExactBelow + (exponent - 6) * kSubBuckets + sub;
}

uint64_t LatencyHistogram::MidpointOf(int bucket) {
  if (bucket < kExactBelow) {
    return static_cast<uint64_t>(bucket);
  }
  const int exponent = (bucket - kExactBelow) / kSubBuckets + 6;
  const uint64_t sub = static_cast<uint64_t>((bucket - kExactBelow) % kSubBuckets + kSubBuckets);
  const uint64_t width = uint64_t{1} << (exponent - 5);
  return sub * width + width / 2;
}

void LatencyHistogram::Record(uint64_t micros) {
  ++buckets_[BucketOf(micros)];
  ++count_;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) {
    buckets_[i] += other.buckets_[i];
  }
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::QuantileMicros(double q) const {
  if (count_ == 0) {
    return 0;
  }
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return std::min(MidpointOf(i), max_);
    }
  }
  return max_;
}

}  // namespace riffle::bench
