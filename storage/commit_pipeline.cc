#include "storage/commit_pipeline.h"

#include <pthread.h>

#include <algorithm>
#include <future>
#include <mutex>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "storage/store.h"

namespace riffle::storage {
namespace {

// Answers one request once every replicated shard it wrote has committed it (the high
// watermark passed its last offset) or with the first error that ended a wait; a request that
// wrote only unreplicated shards is answered at once.
void AnswerWhenCommitted(std::vector<ShardAppend>& appends, int64_t now_ms, AppendCallback done,
                         const Status& written, std::vector<Reservation> reservations) {
  const bool replicated = std::any_of(appends.begin(), appends.end(),
                                      [](const ShardAppend& a) { return a.log->replicated(); });
  if (!written.ok() || !replicated) {
    done(written, reservations);
    return;
  }
  struct Pending {
    std::mutex mu;
    size_t left = 1;  // one for the registration below, so no early answer
    Status first_error;
    AppendCallback done;
    std::vector<Reservation> reservations;

    void Arrive(const Status& status) {
      {
        std::lock_guard lock(mu);
        if (!status.ok() && first_error.ok()) {
          first_error = status;
        }
        if (--left > 0) {
          return;
        }
      }
      done(first_error, reservations);
    }
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  pending->reservations = std::move(reservations);
  for (size_t j = 0; j < appends.size(); ++j) {
    if (!appends[j].log->replicated() || appends[j].values.empty()) {
      continue;
    }
    {
      std::lock_guard lock(pending->mu);
      ++pending->left;
    }
    const uint64_t end = pending->reservations[j].first_offset + appends[j].values.size();
    if (!appends[j].log->AwaitCommitted(
            end, now_ms, [pending](const Status& status) { pending->Arrive(status); })) {
      pending->Arrive(Status());
    }
  }
  pending->Arrive(Status());
}

}  // namespace

CommitPipeline::CommitPipeline(rocksdb::DB& db, bool sync, DiskSpaceGuard disk_space)
    : db_(db),
      sync_(sync),
      disk_space_(std::move(disk_space)),
      completer_([this] { RunCompletions(); }),
      committer_([this] { Run(); }) {}

CommitPipeline::~CommitPipeline() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  queued_.Signal();
  committer_.join();
  {
    MutexLock lock(&completions_mu_);
    completions_stopping_ = true;
  }
  completions_ready_.Signal();
  completer_.join();
}

void CommitPipeline::Submit(std::vector<ShardAppend> appends, int64_t now_ms, AppendCallback done) {
  bool was_idle = false;
  {
    MutexLock lock(&mu_);
    was_idle = queue_.empty();
    queue_.push_back(Request{std::move(appends), now_ms, std::move(done)});
  }
  // The committer looks at the queue again after every group, so only the first request
  // queued while it sleeps needs to wake it.
  if (was_idle) {
    queued_.Signal();
  }
}

void CommitPipeline::Drain() {
  std::promise<void> drained;
  Submit({}, 0,
         [&drained](const Status&, const std::vector<Reservation>&) { drained.set_value(); });
  drained.get_future().wait();
}

void CommitPipeline::Run() {
  pthread_setname_np(pthread_self(), "riffle-commit");  // for top -H and perf
  std::vector<Request> group;
  for (;;) {
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) {
        queued_.Wait(&mu_);
      }
      if (queue_.empty()) {
        return;  // stopping, and everything queued has been committed
      }
      group.swap(queue_);
    }
    CommitGroup(group);
    group = {};  // moved to the completion thread, or done
  }
}

void CommitPipeline::CountWrite(std::chrono::steady_clock::duration took) {
  const double seconds = std::chrono::duration<double>(took).count();
  const auto& bounds = CommitTimes::kBoundsSeconds;
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  write_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  write_nanos_.fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()),
      std::memory_order_relaxed);
}

CommitTimes CommitPipeline::commit_times() const {
  CommitTimes out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < write_buckets_.size(); ++i) {
    cumulative += write_buckets_[i].load(std::memory_order_relaxed);
    if (i < out.at_most.size()) {
      out.at_most[i] = cumulative;
    }
  }
  out.count = cumulative;
  out.sum_seconds = static_cast<double>(write_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return out;
}

void CommitPipeline::CommitGroup(std::vector<Request>& group) {
  rocksdb::WriteBatch batch;
  std::vector<std::vector<Reservation>> reservations(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    Request& request = group[i];
    reservations[i].reserve(request.appends.size());
    for (ShardAppend& append : request.appends) {
      const Reservation r =
          append.log->Reserve(static_cast<uint32_t>(append.values.size()), request.now_ms);
      reservations[i].push_back(r);
      for (size_t k = 0; k < append.values.size(); ++k) {
        SetRecordArrival(append.values[k], r.arrival_ms);
        append.log->AddToBatch(batch, r.first_offset + k, append.values[k]);
      }
    }
  }
  Status written;
  if (batch.Count() > 0) {
    written = disk_space_.MayWrite();
  }
  if (batch.Count() > 0 && written.ok()) {
    rocksdb::WriteOptions options;
    options.sync = sync_;
    const auto started = std::chrono::steady_clock::now();
    written = FromRocks(db_.Write(options, &batch));
    CountWrite(std::chrono::steady_clock::now() - started);
  }
  // Publish every range before any callback runs: a client that reads right after its
  // acknowledgement must find its record.
  for (size_t i = 0; i < group.size(); ++i) {
    for (size_t j = 0; j < group[i].appends.size(); ++j) {
      ShardAppend& append = group[i].appends[j];
      append.log->Finish(reservations[i][j], static_cast<uint32_t>(append.values.size()));
    }
  }
  bool more_queued = false;
  {
    MutexLock lock(&mu_);
    more_queued = !queue_.empty();
  }
  bool handed_over = false;
  bool was_idle = false;
  {
    MutexLock lock(&completions_mu_);
    // Callbacks run in submission order: inline only when no earlier group's callbacks are
    // still queued or running on the completion thread (Drain() relies on it).
    if (more_queued || !completions_.empty() || completions_running_) {
      was_idle = completions_.empty() && !completions_running_;
      completions_.push_back(Completed{std::move(group), written, std::move(reservations)});
      handed_over = true;
    }
  }
  if (!handed_over) {
    for (size_t i = 0; i < group.size(); ++i) {
      AnswerWhenCommitted(group[i].appends, group[i].now_ms, std::move(group[i].done), written,
                          std::move(reservations[i]));
    }
    return;
  }
  if (was_idle) {
    completions_ready_.Signal();
  }
}

void CommitPipeline::RunCompletions() {
  pthread_setname_np(pthread_self(), "riffle-complete");
  std::vector<Completed> batch;
  for (;;) {
    {
      MutexLock lock(&completions_mu_);
      while (!completions_stopping_ && completions_.empty()) {
        completions_ready_.Wait(&completions_mu_);
      }
      if (completions_.empty()) {
        return;
      }
      batch.swap(completions_);
      completions_running_ = true;
    }
    for (Completed& completed : batch) {
      for (size_t i = 0; i < completed.group.size(); ++i) {
        Request& request = completed.group[i];
        AnswerWhenCommitted(request.appends, request.now_ms, std::move(request.done),
                            completed.written, std::move(completed.reservations[i]));
      }
    }
    batch.clear();
    MutexLock lock(&completions_mu_);
    completions_running_ = false;
  }
}

}  // namespace riffle::storage
