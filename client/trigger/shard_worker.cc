#include "client/trigger/shard_worker.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <ostream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "client/trigger/response.h"

namespace riffle::trigger {
namespace {

// How long one wait for records lasts before a stop is looked at again.
constexpr std::chrono::milliseconds kFeedWait{250};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
// Failed subscriptions in a row after which a pushed shard is polled instead.
constexpr int kSubscribeAttempts = 3;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ShardWorker::ShardWorker(client::Client& client, const TriggerOptions& options, EventSource source,
                         std::string consumer_arn, client::ShardLease lease,
                         std::vector<std::unique_ptr<Handler>> handlers,
                         FailureDestination& failures, TriggerCounters& counters,
                         const std::atomic<bool>& stopping, EventLog& log)
    : client_(client),
      options_(options),
      source_(std::move(source)),
      consumer_arn_(std::move(consumer_arn)),
      lease_(std::move(lease)),
      handlers_(std::move(handlers)),
      failures_(failures),
      counters_(counters),
      stopping_(stopping),
      log_(log),
      checkpoint_(lease_.checkpoint) {}

void ShardWorker::Stop(Reason reason) {
  (reason == Reason::kLeaseLost ? lease_lost_ : handing_over_).store(true);
}

bool ShardWorker::ShouldStop() const {
  return stopping_.load() || lease_lost_.load() || handing_over_.load();
}

bool ShardWorker::Pause(std::chrono::milliseconds duration) const {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!ShouldStop() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(50), std::chrono::duration_cast<std::chrono::milliseconds>(
                                           until - std::chrono::steady_clock::now())));
  }
  return !ShouldStop();
}

void ShardWorker::Run() {
  DeliverUntilStopped();
  if (!lease_lost_.load()) {
    client_
        .ReleaseShardLease(options_.stream, options_.group, source_.shard_id,
                           lease_.lease_counter)
        .IgnoreError();  // it expires anyway; releasing only lets another runner start sooner
  }
  returned_.store(true);
}

void ShardWorker::DeliverUntilStopped() {
  std::unique_ptr<RecordFeed> feed =
      consumer_arn_.empty()
          ? NewPollingFeed(client_, options_.stream, source_.shard_id, lease_.checkpoint)
          : NewSubscriptionFeed(client_, consumer_arn_, source_.shard_id, lease_.checkpoint);
  bool pushed = !consumer_arn_.empty();
  int failures_in_a_row = 0;
  // One read feeds every lane a full batch.
  const size_t wanted =
      static_cast<size_t>(options_.batch_size) * static_cast<size_t>(handlers_.size());
  while (!ShouldStop() && !feed->ended()) {
    // Gather up to `wanted` records, for at most the batching window once one came.
    std::vector<client::Record> records;
    auto window_end = std::chrono::steady_clock::time_point::max();
    bool read_failed = false;
    while (!ShouldStop() && records.size() < wanted && !feed->ended()) {
      StatusOr<std::vector<client::Record>> read = feed->Next(wanted - records.size(), kFeedWait);
      if (!read.ok()) {
        if (read.status().code() != ErrorCode::kProvisionedThroughputExceeded) {
          log_.Note(source_.shard_id, read.status().message());
        }
        read_failed = true;
        break;
      }
      if (records.empty() && !read->empty()) {
        window_end = std::chrono::steady_clock::now() + options_.max_batching_window;
      }
      std::move(read->begin(), read->end(), std::back_inserter(records));
      if (!records.empty() && std::chrono::steady_clock::now() >= window_end) {
        break;
      }
    }
    if (!records.empty() && !DeliverInLanes(records)) {
      return;  // stopped, or the lease was lost, before the handler acknowledged them all
    }
    failures_in_a_row = read_failed ? failures_in_a_row + 1 : 0;
    if (read_failed) {
      // Start again after the checkpoint: the iterator may have expired, the subscription
      // ended, or the server restarted.
      std::string checkpoint;
      {
        std::lock_guard lock(read_mu_);
        checkpoint = checkpoint_;
      }
      // A node that keeps refusing the subscription (one that cannot reach the shard's owner,
      // say): the shard is polled instead.
      if (pushed && failures_in_a_row >= kSubscribeAttempts) {
        log_.Note(source_.shard_id, "SubscribeToShard keeps failing here; polling GetRecords");
        feed = NewPollingFeed(client_, options_.stream, source_.shard_id, checkpoint);
        pushed = false;
      } else {
        feed->Restart(checkpoint);
      }
      Pause(std::chrono::seconds(1));
    }
  }
}

bool ShardWorker::DeliverInLanes(std::span<const client::Record> records) {
  {
    std::lock_guard lock(read_mu_);
    read_sequence_numbers_.clear();
    read_index_.clear();
    for (const client::Record& record : records) {
      read_index_[record.sequence_number] = read_sequence_numbers_.size();
      read_sequence_numbers_.push_back(record.sequence_number);
    }
    read_finished_.assign(records.size(), false);
    read_finished_prefix_ = 0;
  }
  if (handlers_.size() == 1) {
    return DeliverLane(*handlers_.front(), records);
  }
  // Records of one partition key always go to the same lane, in the shard's order.
  std::vector<std::vector<client::Record>> lanes(handlers_.size());
  for (const client::Record& record : records) {
    lanes[std::hash<std::string>{}(record.partition_key) % lanes.size()].push_back(record);
  }
  std::vector<char> delivered(lanes.size(), 1);
  std::vector<std::thread> threads;
  for (size_t lane = 1; lane < lanes.size(); ++lane) {
    threads.emplace_back(
        [&, lane] { delivered[lane] = DeliverLane(*handlers_[lane], lanes[lane]); });
  }
  delivered[0] = DeliverLane(*handlers_[0], lanes[0]);
  for (std::thread& thread : threads) {
    thread.join();
  }
  return std::all_of(delivered.begin(), delivered.end(), [](char ok) { return ok != 0; });
}

bool ShardWorker::DeliverLane(Handler& handler, std::span<const client::Record> records) {
  while (!records.empty()) {
    if (ShouldStop()) {
      return false;  // the batch in flight is finished; the next ones come to the next holder
    }
    const size_t batch = std::min(records.size(), static_cast<size_t>(options_.batch_size));
    if (!Deliver(handler, records.first(batch))) {
      return false;
    }
    records = records.subspan(batch);
  }
  return true;
}

std::string ShardWorker::NextRequestId() {
  return fmt::format("{}-{}-{}", source_.shard_id, lease_.lease_counter, ++next_request_);
}

size_t ShardWorker::InvokeOnce(Handler& handler, std::span<const client::Record> records,
                               std::string& error) {
  const Invocation invocation{.event_json = KinesisEvent(source_, records),
                              .request_id = NextRequestId(),
                              .timeout = options_.function_timeout};
  ++counters_.invocations;
  BatchOutcome outcome =
      JudgeResponse(handler.Invoke(invocation), records, options_.report_batch_item_failures);
  error = std::move(outcome.error);
  return outcome.done;
}

bool ShardWorker::Acknowledge(std::span<const client::Record> records) {
  std::lock_guard lock(read_mu_);
  for (const client::Record& record : records) {
    read_finished_[read_index_.at(record.sequence_number)] = true;
  }
  const size_t before = read_finished_prefix_;
  while (read_finished_prefix_ < read_finished_.size() && read_finished_[read_finished_prefix_]) {
    ++read_finished_prefix_;
  }
  // The checkpoint is made under the lock, so that lanes finishing together cannot send an
  // older checkpoint after a newer one.
  return read_finished_prefix_ == before ||
         CheckpointAt(read_sequence_numbers_[read_finished_prefix_ - 1]);
}

bool ShardWorker::CheckpointAt(const std::string& sequence_number) {
  Status status = client_.Checkpoint(options_.stream, options_.group, source_.shard_id,
                                     lease_.lease_counter, sequence_number);
  if (status.code() == ErrorCode::kResourceInUse) {
    log_.Note(source_.shard_id, "lease lost: " + status.message());
    lease_lost_.store(true);
    return false;
  }
  // Another failure (riffled restarting) leaves the checkpoint behind: the records come again,
  // which at-least-once allows.
  if (!status.ok()) {
    log_.Note(source_.shard_id, "checkpoint: " + status.message());
  } else {
    checkpoint_ = sequence_number;
  }
  return true;
}

bool ShardWorker::Deliver(Handler& handler, std::span<const client::Record> records) {
  int attempts = 0;
  while (!records.empty()) {
    if (lease_lost_.load()) {
      return false;
    }
    std::string error;
    const size_t done = InvokeOnce(handler, records, error);
    ++attempts;
    counters_.records += done;
    if (done > 0) {
      if (!Acknowledge(records.first(done))) {
        return false;
      }
      records = records.subspan(done);
      attempts = 0;  // a partial success restarts the count for the rest, as in Lambda
    }
    if (records.empty()) {
      return true;
    }
    ++counters_.errors;
    log_.Note(source_.shard_id,
              fmt::format("batch of {} from {} failed (attempt {}): {}", records.size(),
                          records.front().sequence_number, attempts, error));
    if (options_.bisect_batch_on_function_error && records.size() > 1) {
      const size_t half = records.size() / 2;
      return Deliver(handler, records.first(half)) && Deliver(handler, records.subspan(half));
    }
    const bool too_old =
        options_.maximum_record_age.count() >= 0 &&
        NowMillis() - records.front().arrival_time_ms >
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.maximum_record_age)
                .count();
    const bool retries_exhausted =
        options_.maximum_retry_attempts >= 0 && attempts > options_.maximum_retry_attempts;
    if (too_old || retries_exhausted) {
      const FailedBatch failure{
          .request_id =
              fmt::format("{}-{}-{}", source_.shard_id, lease_.lease_counter, next_request_.load()),
          .function_name = options_.group,
          .condition = too_old ? "RecordAgeExceeded" : "RetryAttemptsExhausted",
          .invoke_count = attempts,
          .error = error};
      Status sent =
          failures_.Send(source_.shard_id, FailureRecord(source_, records, failure, NowMillis()));
      if (!sent.ok()) {
        log_.Note(source_.shard_id, "on-failure destination: " + sent.message());
        if (!Pause(std::chrono::seconds(1))) {
          return false;
        }
        continue;  // never skip a batch that no destination has recorded
      }
      counters_.failed_records += records.size();
      return Acknowledge(records);
    }
    if (stopping_.load() || handing_over_.load()) {
      return false;  // a batch still failing is not finished: its records come again
    }
    const auto backoff = std::min<std::chrono::milliseconds>(
        kMaxBackoff, std::chrono::milliseconds(100) * (1 << std::min(attempts, 6)));
    if (!Pause(backoff)) {
      return false;
    }
  }
  return true;
}

}  // namespace riffle::trigger
