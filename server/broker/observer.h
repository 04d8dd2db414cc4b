// What the broker reports about the work it does, for metrics. The broker declares this
// interface and server/metrics/ implements it, so no metrics library reaches the broker.
//
// Implementations must be thread-safe and cheap: they are called on the request path.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace riffle::broker {

enum class Operation : uint8_t {
  kPutRecord,
  kPutRecords,
  kGetRecords,
  kGetShardIterator,
  kSubscribeToShard,
};

struct ShardTraffic {
  std::string_view stream;
  std::string_view shard_id;
  // The stream has enhanced (shard-level) monitoring enabled: shard labels are wanted.
  bool shard_level = false;
  uint64_t records = 0;
  uint64_t bytes = 0;
};

// The records of one answered PutRecord or PutRecords call (PutRecords.TotalRecords,
// SuccessfulRecords, ThrottledRecords, FailedRecords; PutRecord.Bytes, PutRecords.Bytes).
struct PutTally {
  uint64_t successful = 0;
  uint64_t throttled = 0;  // refused with ProvisionedThroughputExceededException
  uint64_t failed = 0;     // refused with InternalFailure
  uint64_t bytes = 0;      // of the successful records
};

class Observer {
 public:
  virtual ~Observer() = default;
  // Records accepted into a shard (after the write is durable).
  virtual void RecordsWritten(const ShardTraffic& traffic) = 0;
  // Records returned by GetRecords; `iterator_age_ms` is the call's MillisBehindLatest.
  virtual void RecordsRead(const ShardTraffic& traffic, int64_t iterator_age_ms) = 0;
  // One SubscribeToShard event sent, with its records (empty for a heartbeat) and
  // MillisBehindLatest.
  virtual void SubscriptionEventSent(const ShardTraffic& traffic, int64_t millis_behind_latest) = 0;
  // A write or read refused with ProvisionedThroughputExceededException.
  virtual void Throttled(const ShardTraffic& traffic, bool write) = 0;
  // One data-plane call, its duration and outcome (kOk on success).
  virtual void Call(Operation operation, std::string_view stream, double seconds,
                    ErrorCode outcome) = 0;
  // The records of one PutRecord or PutRecords call that was answered (not refused as a whole).
  virtual void PutTallied(Operation operation, std::string_view stream, const PutTally& tally) = 0;
  // The stream is gone: its series go with it.
  virtual void StreamDeleted(std::string_view stream) = 0;
};

}  // namespace riffle::broker
