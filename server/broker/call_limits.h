// The per-account call rates AWS states for Kinesis's control-plane operations (CreateStream 5
// per second, DescribeStream 10, DescribeStreamSummary 20, ...; docs/aws-compatibility.md has
// the table). Front ends ask before they call the broker, so riffled's own callers (the console)
// are not counted. Thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <absl/base/thread_annotations.h>

#include "common/mutex.h"
#include "common/status.h"
#include "server/broker/token_bucket.h"

namespace riffle::broker {

// AWS states its call limits as sustained rates. Riffle lets this many seconds' worth of calls
// pass at once, so a burst of calls from a test suite or a starting application goes through,
// and refuses only what goes on above the rate.
inline constexpr double kCallBurstSeconds = 10;

// A bucket of `rate` calls per second with kCallBurstSeconds of burst.
inline TokenBucket CallRate(double rate) { return TokenBucket(rate, rate * kCallBurstSeconds); }

class CallLimits {
 public:
  // OK, or LimitExceededException in AWS's words when `account` has called `operation` more
  // often than its rate allows. Operations without a stated rate are always admitted. `stream` is the stream the call names, for the message only.
  Status Admit(std::string_view account, std::string_view operation, std::string_view stream,
               int64_t now_ms);

 private:
  // Accounts are named by the caller when there is no credentials file: past this many buckets,
  // those idle long enough to be full again are dropped.
  static constexpr size_t kMaxBuckets = 4096;

  Mutex mu_;
  std::map<std::pair<std::string, std::string_view>, TokenBucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace riffle::broker
