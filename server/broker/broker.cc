#include "server/broker/broker.h"

#include <future>

namespace riffle::broker {
namespace {

// Runs an asynchronous operation and waits for its result.
template <typename Result, typename Start>
StatusOr<Result> Wait(Start start) {
  std::promise<StatusOr<Result>> promise;
  start([&promise](StatusOr<Result> result) { promise.set_value(std::move(result)); });
  return promise.get_future().get();
}

}  // namespace

StatusOr<PutRecordResult> Broker::PutRecord(const RequestContext& ctx,
                                            const PutRecordRequest& req) {
  return Wait<PutRecordResult>([&](auto done) { PutRecordAsync(ctx, req, std::move(done)); });
}

StatusOr<PutRecordsResult> Broker::PutRecords(const RequestContext& ctx,
                                              const PutRecordsRequest& req) {
  return Wait<PutRecordsResult>([&](auto done) { PutRecordsAsync(ctx, req, std::move(done)); });
}

}  // namespace riffle::broker
