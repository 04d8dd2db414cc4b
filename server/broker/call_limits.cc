#include "server/broker/call_limits.h"

#include <fmt/format.h>

namespace riffle::broker {
namespace {

struct OperationRate {
  std::string_view operation;
  double calls_per_second;
};

// The Kinesis API reference's per-account limits. ListShards (per stream), GetShardIterator
// (per shard) and SubscribeToShard (per consumer and shard) are limited where those are known,
// in the broker.
constexpr OperationRate kRates[] = {
    {"CreateStream", 5},           {"DeleteStream", 5},
    {"ListStreams", 5},            {"DescribeStream", 10},
    {"DescribeStreamSummary", 20}, {"DescribeLimits", 1},
    {"SplitShard", 5},             {"MergeShards", 5},
    {"AddTagsToStream", 5},        {"RemoveTagsFromStream", 5},
    {"ListTagsForStream", 5},      {"RegisterStreamConsumer", 5},
    {"DeregisterStreamConsumer", 5}, {"DescribeStreamConsumer", 20},
    {"ListStreamConsumers", 5},    {"UpdateStreamWarmThroughput", 5},
    {"UpdateAccountSettings", 5},
};

const OperationRate* Find(std::string_view operation) {
  for (const OperationRate& rate : kRates) {
    if (rate.operation == operation) {
      return &rate;
    }
  }
  return nullptr;
}

}  // namespace

Status CallLimits::Admit(std::string_view account, std::string_view operation,
                         std::string_view stream, int64_t now_ms) {
  const OperationRate* rate = Find(operation);
  if (rate == nullptr) {
    return Status();
  }
  {
    MutexLock lock(&mu_);
    if (buckets_.size() >= kMaxBuckets) {
      std::erase_if(buckets_, [&](const auto& entry) {
        return now_ms - entry.second.last_ms() > static_cast<int64_t>(kCallBurstSeconds * 1000);
      });
    }
    auto [it, inserted] = buckets_.try_emplace({std::string(account), rate->operation},
                                               CallRate(rate->calls_per_second));
    if (it->second.TryTake(1, now_ms)) {
      return Status();
    }
  }
  return Status(ErrorCode::kLimitExceeded,
                stream.empty()
                    ? fmt::format("Rate exceeded for account {}.", account)
                    : fmt::format("Rate exceeded for stream {} under account {}.", stream, account));
}

}  // namespace riffle::broker
