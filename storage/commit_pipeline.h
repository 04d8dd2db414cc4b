// The one write path for shard records: appends are queued as requests, and a single committer
// thread takes everything queued, assigns offsets and arrival times shard by shard, writes it
// all as one RocksDB WriteBatch with one WAL write (and, with FsyncMode::kAlways, one fsync),
// publishes the new committed ends, and then runs each request's callback. No caller's thread
// ever waits on an fsync; concurrency costs queue entries, not threads.
//
// Order: requests commit in the order Submit() was called, so two appends to one shard get
// offsets in that order, and every record of one request is in one atomic write.
//
// Callbacks: when nothing else is queued, the committer runs a group's callbacks itself (one
// thread hop less for a lone writer); when more appends wait, it hands them to a completion
// thread and starts the next write at once, so answering one group (gRPC sends its reply
// inline) overlaps the next group's fsync.
//
// Thread-safe. Callbacks must not block: they hand results to the caller's executor (a gRPC
// reactor, an io_context) or do a few counter updates.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
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

// Where each ShardAppend of a request landed, in the order they were given.
using AppendCallback = std::function<void(const Status&, const std::vector<Reservation>&)>;

class CommitPipeline {
 public:
  // `sync`: fsync the WAL before completing a group (FsyncMode::kAlways).
  CommitPipeline(rocksdb::DB& db, bool sync);
  // Commits what is queued, then stops the committer.
  ~CommitPipeline();
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // Queues one atomic append. `now_ms` is the request's arrival time. `done` runs exactly once,
  // on the committer thread, after the write is durable (per the fsync mode) and readable; on a
  // failed write the offsets are abandoned (readers pass over them) and `done` gets the error.
  void Submit(std::vector<ShardAppend> appends, int64_t now_ms, AppendCallback done);

  // Blocks until every append submitted before this call has completed: a reshard closes a
  // shard at an offset that no queued write can move any more.
  void Drain();

 private:
  struct Request {
    std::vector<ShardAppend> appends;
    int64_t now_ms = 0;
    AppendCallback done;
  };

  void Run();
  void CommitGroup(std::vector<Request>& group);
  void RunCompletions();

  rocksdb::DB& db_;
  const bool sync_;

  std::mutex mu_;
  std::condition_variable queued_;
  std::vector<Request> queue_;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_

  // Committed groups whose callbacks the completion thread runs.
  struct Completed {
    std::vector<Request> group;
    Status written;
    std::vector<std::vector<Reservation>> reservations;
  };
  std::mutex completions_mu_;
  std::condition_variable completions_ready_;
  std::vector<Completed> completions_;  // guarded by completions_mu_
  bool completions_stopping_ = false;   // guarded by completions_mu_

  std::thread completer_;
  std::thread committer_;  // last: it uses everything above
};

}  // namespace riffle::storage
