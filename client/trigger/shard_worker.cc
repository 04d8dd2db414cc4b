#include "client/trigger/shard_worker.h"

#include <algorithm>
#include <iterator>
#include <ostream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "client/trigger/response.h"

namespace riffle::trigger {
namespace {

// An idle shard is polled four times a second: under the five GetRecords calls per second a
// PROVISIONED shard allows, and a new record waits 250 ms at most.
constexpr std::chrono::milliseconds kIdlePoll{250};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ShardWorker::ShardWorker(client::Client& client, const TriggerOptions& options, EventSource source,
                         client::ShardLease lease, std::unique_ptr<Handler> handler,
                         FailureDestination& failures, TriggerCounters& counters,
                         const std::atomic<bool>& stopping, EventLog& log)
    : client_(client),
      options_(options),
      source_(std::move(source)),
      lease_(std::move(lease)),
      handler_(std::move(handler)),
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
  std::string iterator;
  bool shard_ended = false;
  while (!ShouldStop() && !shard_ended) {
    if (iterator.empty()) {
      StatusOr<std::string> fresh = client_.GetShardIterator(
          options_.stream, source_.shard_id,
          checkpoint_.empty() ? client::IteratorPosition::TrimHorizon()
                              : client::IteratorPosition::AfterSequenceNumber(checkpoint_));
      if (!fresh.ok()) {
        log_.Note(source_.shard_id, fresh.status().message());
        Pause(std::chrono::seconds(1));
        continue;
      }
      iterator = std::move(*fresh);
    }
    // Gather a batch: up to batch_size records, for at most the batching window once one came.
    std::vector<client::Record> batch;
    auto window_end = std::chrono::steady_clock::time_point::max();
    bool read_failed = false;
    while (!ShouldStop() && batch.size() < static_cast<size_t>(options_.batch_size)) {
      StatusOr<client::GetRecordsResult> read = client_.GetRecords(
          iterator, static_cast<int32_t>(options_.batch_size - static_cast<int>(batch.size())));
      if (!read.ok()) {
        if (read.status().code() != ErrorCode::kProvisionedThroughputExceeded) {
          log_.Note(source_.shard_id, read.status().message());
        }
        read_failed = true;
        break;
      }
      if (batch.empty() && !read->records.empty()) {
        window_end = std::chrono::steady_clock::now() + options_.max_batching_window;
      }
      std::move(read->records.begin(), read->records.end(), std::back_inserter(batch));
      iterator = std::move(read->next_shard_iterator);
      if (iterator.empty()) {
        shard_ended = true;
        break;
      }
      const bool full = batch.size() >= static_cast<size_t>(options_.batch_size);
      if (full || (!batch.empty() && std::chrono::steady_clock::now() >= window_end)) {
        break;
      }
      if (read->records.empty() || !batch.empty()) {
        Pause(kIdlePoll);
      }
    }
    if (!batch.empty() && !Deliver(batch)) {
      return;  // stopped, or the lease was lost, before the handler acknowledged them all
    }
    if (read_failed) {
      // Start again after the checkpoint: the iterator may have expired or the server restarted.
      iterator.clear();
      Pause(std::chrono::seconds(1));
    }
  }
}

size_t ShardWorker::InvokeOnce(std::span<const client::Record> records, std::string& error) {
  const Invocation invocation{.event_json = KinesisEvent(source_, records),
                              .request_id = fmt::format("{}-{}-{}", source_.shard_id,
                                                        lease_.lease_counter, ++next_request_),
                              .timeout = options_.function_timeout};
  ++counters_.invocations;
  BatchOutcome outcome =
      JudgeResponse(handler_->Invoke(invocation), records, options_.report_batch_item_failures);
  error = std::move(outcome.error);
  return outcome.done;
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

bool ShardWorker::Deliver(std::span<const client::Record> records) {
  int attempts = 0;
  while (!records.empty()) {
    if (lease_lost_.load()) {
      return false;
    }
    std::string error;
    const size_t done = InvokeOnce(records, error);
    ++attempts;
    counters_.records += done;
    if (done > 0) {
      if (!CheckpointAt(records[done - 1].sequence_number)) {
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
      return Deliver(records.first(half)) && Deliver(records.subspan(half));
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
              fmt::format("{}-{}-{}", source_.shard_id, lease_.lease_counter, next_request_),
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
      return CheckpointAt(records.back().sequence_number);
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
