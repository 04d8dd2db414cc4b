// A token bucket for the per-shard quotas and call rates. Not thread-safe: the owner serializes access.
#pragma once

#include <algorithm>
#include <cstdint>

namespace riffle::broker {

class TokenBucket {
 public:
  // `rate` tokens per second, holding at most `rate` (one second's burst). Starts full.
  explicit TokenBucket(double rate) : TokenBucket(rate, rate) {}
  // `rate` tokens per second, holding at most `capacity`. Starts full.
  TokenBucket(double rate, double capacity) : rate_(rate), capacity_(capacity), tokens_(capacity) {}

  // Takes `amount` if that many are there.
  bool TryTake(double amount, int64_t now_ms) {
    Refill(now_ms);
    if (tokens_ < amount) {
      return false;
    }
    tokens_ -= amount;
    return true;
  }
  // Whether the balance is not negative; used with Charge() for reads, whose size is only
  // known afterwards (a 10 MiB read leaves the bucket ~8 MiB in debt: ~4 s of refusals).
  bool HasCredit(int64_t now_ms) {
    Refill(now_ms);
    return tokens_ >= 0;
  }
  void Charge(double amount) { tokens_ -= amount; }
  // When the bucket was last used (0: never).
  int64_t last_ms() const { return last_ms_; }

 private:
  void Refill(int64_t now_ms) {
    if (last_ms_ != 0 && now_ms > last_ms_) {
      tokens_ =
          std::min(capacity_, tokens_ + rate_ * static_cast<double>(now_ms - last_ms_) / 1000.0);
    }
    last_ms_ = std::max(last_ms_, now_ms);
  }

  double rate_;
  double capacity_;
  double tokens_;
  int64_t last_ms_ = 0;
};

}  // namespace riffle::broker
