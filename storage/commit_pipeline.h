// The one write path for shard records: appends are queued as requests, and a single committer
// thread takes everything queued, assigns offsets and arrival times shard by shard, writes it
// all as one RocksDB WriteBatch with one WAL write (and, with FsyncMode::kAlways, one fsync),
// publishes the new committed ends, and then runs each request's callback. No caller's thread
// ever waits on an fsync; concurrency costs queue entries, not threads.
//
// Order: requests commit in the order Submit() was called, so two appends to one shard get
// offsets in that order, and every record of one request is in one atomic write.
//
// Callbacks run in submission order. When nothing else is queued or still being answered, the
// committer runs a group's callbacks itself (one thread hop less for a lone writer); when more
// appends wait, it hands them to a completion thread and starts the next write at once, so
// answering one group (gRPC sends its reply inline) overlaps the next group's fsync.
// A request that wrote a replicated shard (ShardLog::replicated()) is answered later, when the
// shard's high watermark covers it or its wait fails, on the thread that moved it.
//
// Thread-safe. Callbacks must not block: they hand results to the caller's executor (a gRPC
// reactor, an io_context) or do a few counter updates.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <absl/base/thread_annotations.h>

#include "common/mutex.h"
#include "common/status.h"
#include "storage/disk_space.h"
#include "storage/shard_log.h"

namespace rocksdb {
class DB;
}

namespace riffle::storage {

// The records one request appends to one shard. Each value is EncodeRecord()'s output; its
// arrival time is overwritten by the committer (arrival times never decrease in a shard).
struct ShardAppend {
  std::shared_ptr<ShardLog> log;
  std::vector<std::string> values;
};

// How long the committer's writes took: each group's RocksDB write, with its WAL fsync under
// FsyncMode::kAlways, as cumulative histogram buckets.
struct CommitTimes {
  static constexpr std::array<double, 14> kBoundsSeconds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  std::array<uint64_t, kBoundsSeconds.size()> at_most{};  // writes that took <= each bound
  uint64_t count = 0;
  double sum_seconds = 0;
};

// Where each ShardAppend of a request landed, in the order they were given.
using AppendCallback = std::function<void(const Status&, const std::vector<Reservation>&)>;

class CommitPipeline {
 public:
  // `sync`: fsync the WAL before completing a group (FsyncMode::kAlways). `disk_space` is
  // asked before each group is written.
  CommitPipeline(rocksdb::DB& db, bool sync, DiskSpaceGuard disk_space);
  // Commits what is queued, then stops the committer.
  ~CommitPipeline();
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // Queues one atomic append. `now_ms` is the request's arrival time. `done` runs exactly once,
  // on the committer or the completion thread, after the write is durable (per the fsync mode)
  // and readable; on a failed write the offsets are abandoned (readers pass over them) and
  // `done` gets the error.
  void Submit(std::vector<ShardAppend> appends, int64_t now_ms, AppendCallback done)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until every append submitted before this call has completed: a reshard closes a
  // shard at an offset that no queued write can move any more.
  void Drain() ABSL_LOCKS_EXCLUDED(mu_);

  CommitTimes commit_times() const;

 private:
  struct Request {
    std::vector<ShardAppend> appends;
    int64_t now_ms = 0;
    AppendCallback done;
  };

  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  void CommitGroup(std::vector<Request>& group) ABSL_LOCKS_EXCLUDED(mu_, completions_mu_);
  void CountWrite(std::chrono::steady_clock::duration took);
  void RunCompletions() ABSL_LOCKS_EXCLUDED(completions_mu_);

  rocksdb::DB& db_;
  const bool sync_;
  DiskSpaceGuard disk_space_;  // only the committer thread (Run) uses it

  // Written by the committer thread only; read at any time for the metrics.
  std::array<std::atomic<uint64_t>, CommitTimes::kBoundsSeconds.size() + 1> write_buckets_{};
  std::atomic<uint64_t> write_nanos_{0};

  // Two leaf locks, never held together nor across the write or a callback: mu_ guards the
  // queue, completions_mu_ the committed groups waiting for their callbacks.
  Mutex mu_;
  CondVar queued_;  // signalled when the queue stops being empty, and to stop
  std::vector<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Committed groups whose callbacks the completion thread runs.
  struct Completed {
    std::vector<Request> group;
    Status written;
    std::vector<std::vector<Reservation>> reservations;
  };
  Mutex completions_mu_;
  CondVar completions_ready_;
  std::vector<Completed> completions_ ABSL_GUARDED_BY(completions_mu_);
  bool completions_stopping_ ABSL_GUARDED_BY(completions_mu_) = false;
  // The completion thread is running a batch it took: later callbacks must wait behind it.
  bool completions_running_ ABSL_GUARDED_BY(completions_mu_) = false;

  std::thread completer_;
  std::thread committer_;  // last: it uses everything above
};

}  // namespace riffle::storage
