// Latency histogram for riffle-bench: log-linear buckets (32 per power of two, so a quantile is
// off by at most ~3%) in constant memory, however long the run. Not thread-safe: each worker
// keeps its own and the results are merged.
#pragma once

#include <array>
#include <cstdint>

namespace riffle::bench {

class LatencyHistogram {
 public:
  void Record(uint64_t micros);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t max_micros() const { return max_; }
  // The value below which a fraction `q` (0..1] of the samples fall; 0 when empty.
  uint64_t QuantileMicros(double q) const;

 private:
  static constexpr int kSubBuckets = 32;
  static constexpr int kExactBelow = 2 * kSubBuckets;  // values below this get their own bucket
  static constexpr int kBuckets = kExactBelow + (64 - 6) * kSubBuckets;

  static int BucketOf(uint64_t micros);
  static uint64_t MidpointOf(int bucket);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace riffle::bench
