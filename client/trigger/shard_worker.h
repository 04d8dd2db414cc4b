// Delivers one leased shard to a handler, batch after batch, and checkpoints what the handler
// acknowledged: at least once, in the shard's order. With a parallelization factor above one,
// the records of one read are split by partition key into that many lanes, delivered at once
// (in order within each key), and the checkpoint moves only past records that every lane has
// finished. Runs on its own thread until the shard's
// end (then it releases the lease, and the shard is finished for the group), a stop (it finishes
// the batch in flight first), or the loss of its lease (it stops at once, checkpointing nothing
// more, since the shard's new holder resumes from the last checkpoint).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/trigger/event_log.h"
#include "client/trigger/failure_destination.h"
#include "client/trigger/handler.h"
#include "client/trigger/kinesis_event.h"
#include "client/trigger/record_feed.h"
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
  // Borrows everything but `handlers` (one per lane: options.parallelization_factor); all must
  // outlive Run(). `stopping` is the runner's stop. `consumer_arn` non-empty: records come by
  // SubscribeToShard as that consumer, else by GetRecords.
  ShardWorker(client::Client& client, const TriggerOptions& options, EventSource source,
              std::string consumer_arn, client::ShardLease lease,
              std::vector<std::unique_ptr<Handler>> handlers, FailureDestination& failures,
              TriggerCounters& counters, const std::atomic<bool>& stopping, EventLog& log);

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
  // Delivers one read's records, split into lanes by partition key; false when the worker must
  // stop before they are all done.
  bool DeliverInLanes(std::span<const client::Record> records);
  // Delivers `records` to `handler` in batches, with retries, bisection and the on-failure
  // destination, acknowledging them as the handler does. False when the worker must stop
  // before they are all done.
  bool DeliverLane(Handler& handler, std::span<const client::Record> records);
  bool Deliver(Handler& handler, std::span<const client::Record> records);
  // Invokes the handler once; the records it acknowledged, from the start of `records`.
  size_t InvokeOnce(Handler& handler, std::span<const client::Record> records, std::string& error);
  // Marks `records` finished, and checkpoints the last record before which every record of
  // the read is finished, if that moved. False if the lease was lost meanwhile.
  bool Acknowledge(std::span<const client::Record> records);
  // Called with read_mu_ held.
  bool CheckpointAt(const std::string& sequence_number);
  // Sleeps up to `duration`, waking early on a stop; false if stopped.
  bool Pause(std::chrono::milliseconds duration) const;
  std::string NextRequestId();

  client::Client& client_;
  const TriggerOptions& options_;
  const EventSource source_;
  const std::string consumer_arn_;
  const client::ShardLease lease_;
  std::vector<std::unique_ptr<Handler>> handlers_;  // one per lane
  FailureDestination& failures_;
  TriggerCounters& counters_;
  const std::atomic<bool>& stopping_;
  EventLog& log_;
  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> handing_over_{false};
  std::atomic<bool> returned_{false};
  std::atomic<uint64_t> next_request_{0};

  // The records of the read in delivery, in the shard's order, and which are finished.
  std::mutex read_mu_;
  std::vector<std::string> read_sequence_numbers_;      // guarded by read_mu_
  std::unordered_map<std::string, size_t> read_index_;  // guarded by read_mu_
  std::vector<bool> read_finished_;                     // guarded by read_mu_
  size_t read_finished_prefix_ = 0;                     // guarded by read_mu_
  std::string checkpoint_;  // guarded by read_mu_: the last one made (or the lease's)
};

}  // namespace riffle::trigger
