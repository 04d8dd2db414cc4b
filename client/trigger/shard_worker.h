// Delivers one leased shard to a handler, batch after batch, and checkpoints what the handler
// acknowledged: at least once, in the shard's order. Runs on its own thread until the shard's
// end (then it releases the lease, and the shard is finished for the group), a stop (it finishes
// the batch in flight first), or the loss of its lease (it stops at once, checkpointing nothing
// more, since the shard's new holder resumes from the last checkpoint).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "client/trigger/event_log.h"
#include "client/trigger/failure_destination.h"
#include "client/trigger/handler.h"
#include "client/trigger/kinesis_event.h"
#include "client/trigger/trigger_options.h"
#include "riffle/client.h"

namespace riffle::trigger {

// Counters the runner reports as progress; shared by the workers.
struct TriggerCounters {
  std::atomic<uint64_t> records{0};  // records the handler acknowledged
  std::atomic<uint64_t> invocations{0};
  std::atomic<uint64_t> errors{0};          // failed invocations
  std::atomic<uint64_t> failed_records{0};  // records sent to the on-failure destination
};

class ShardWorker {
 public:
  // Borrows everything but `handler`; all must outlive Run(). `stopping` is the runner's stop.
  ShardWorker(client::Client& client, const TriggerOptions& options, EventSource source,
              client::ShardLease lease, std::unique_ptr<Handler> handler,
              FailureDestination& failures, TriggerCounters& counters,
              const std::atomic<bool>& stopping, EventLog& log);

  void Run();
  // Run() has returned: the thread can be joined without waiting.
  bool returned() const { return returned_.load(); }
  // From the runner's thread: the lease could not be renewed, or the shard should go to another
  // runner. Run() returns after the batch in flight, which it checkpoints only with kHandOver.
  enum class Reason { kLeaseLost, kHandOver };
  void Stop(Reason reason);
  bool handing_over() const { return handing_over_.load(); }
  const client::ShardLease& lease() const { return lease_; }

 private:
  void DeliverUntilStopped();
  bool ShouldStop() const;
  // Delivers `records` with retries, bisection and the on-failure destination, checkpointing as
  // the handler acknowledges them. False when the worker must stop before they are all done.
  bool Deliver(std::span<const client::Record> records);
  // Invokes the handler once; the records it acknowledged, from the start of `records`.
  size_t InvokeOnce(std::span<const client::Record> records, std::string& error);
  bool CheckpointAt(const std::string& sequence_number);
  // Sleeps up to `duration`, waking early on a stop; false if stopped.
  bool Pause(std::chrono::milliseconds duration) const;

  client::Client& client_;
  const TriggerOptions& options_;
  const EventSource source_;
  const client::ShardLease lease_;
  std::unique_ptr<Handler> handler_;
  FailureDestination& failures_;
  TriggerCounters& counters_;
  const std::atomic<bool>& stopping_;
  EventLog& log_;
  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> handing_over_{false};
  std::atomic<bool> returned_{false};
  std::string checkpoint_;  // the last sequence number checkpointed (or the lease's)
  uint64_t next_request_ = 0;
};

}  // namespace riffle::trigger
