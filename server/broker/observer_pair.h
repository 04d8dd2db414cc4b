// One observer that tells two observers of the broker everything, in turn: riffled's metrics
// and the web console's history see the same reports.
#pragma once

#include <cstdint>
#include <string_view>

#include "server/broker/observer.h"

namespace riffle::broker {

class ObserverPair final : public Observer {
 public:
  // Borrows both, which must outlive it.
  ObserverPair(Observer& first, Observer& second) : first_(first), second_(second) {}
  void RecordsWritten(const ShardTraffic& traffic) override {
    first_.RecordsWritten(traffic);
    second_.RecordsWritten(traffic);
  }
  void RecordsRead(const ShardTraffic& traffic, int64_t iterator_age_ms) override {
    first_.RecordsRead(traffic, iterator_age_ms);
    second_.RecordsRead(traffic, iterator_age_ms);
  }
  void SubscriptionEventSent(const ShardTraffic& traffic, int64_t millis_behind_latest) override {
    first_.SubscriptionEventSent(traffic, millis_behind_latest);
    second_.SubscriptionEventSent(traffic, millis_behind_latest);
  }
  void Throttled(const ShardTraffic& traffic, bool write) override {
    first_.Throttled(traffic, write);
    second_.Throttled(traffic, write);
  }
  void Call(Operation operation, std::string_view stream, double seconds,
            ErrorCode outcome) override {
    first_.Call(operation, stream, seconds, outcome);
    second_.Call(operation, stream, seconds, outcome);
  }
  void PutTallied(Operation operation, std::string_view stream, const PutTally& tally) override {
    first_.PutTallied(operation, stream, tally);
    second_.PutTallied(operation, stream, tally);
  }
  void StreamDeleted(std::string_view stream) override {
    first_.StreamDeleted(stream);
    second_.StreamDeleted(stream);
  }

 private:
  Observer& first_;
  Observer& second_;
};

}  // namespace riffle::broker
