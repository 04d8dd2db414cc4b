// Appends to and reads one shard: its key range of the `records` column family (keys: stream
// id, shard ordinal, offset; storage/format.h).
//
// Shared (shared_ptr) by the Store's index and its users. Must not outlive the Store that
// opened it. Thread-safe.
//
// Writing is split in three so that one WriteBatch can span several shards (all records of one
// PutRecords call are one atomic write): Reserve() takes offsets and the arrival time under mu_,
// the caller adds the records to its batch and writes it (outside any lock, so concurrent
// appenders share one group-commit fsync), then Finish() publishes the range. Readers only see
// offsets below committed_end(), which advances over a gap-free prefix of finished ranges: a
// reader never skips a record that becomes visible later.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <absl/base/thread_annotations.h>

#include "common/mutex.h"
#include "common/status.h"
#include "storage/format.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace riffle::storage {

struct Reservation {
  uint64_t first_offset = 0;
  int64_t arrival_ms = 0;  // the same for every record of the reservation
};

struct ReadRecord {
  uint64_t offset = 0;
  StoredRecord record;
};

struct ReadResult {
  std::vector<ReadRecord> records;
  // Where the next read continues: after the last record returned, or at the committed end
  // when the read reached it (offsets skipped by failed writes are passed over).
  uint64_t next_offset = 0;
  bool reached_end = false;  // the read stopped at committed_end(), not at a limit
};

class ShardLog {
 public:
  // Gives the disk of deleted records back: compacts [begin, end) of `records`, later.
  using Reclaimer = std::function<void(std::string begin, std::string end)>;
  // `records` is the store's column family of every shard's records. `next_offset` and
  // `trim_offset` come from the data on disk.
  ShardLog(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* records, uint64_t stream_id,
           uint32_t shard_ordinal, uint64_t next_offset, uint64_t trim_offset,
           int64_t last_arrival_ms, Reclaimer reclaimer);
  ShardLog(const ShardLog&) = delete;
  ShardLog& operator=(const ShardLog&) = delete;

  // Reserves `count` consecutive offsets. The arrival time is max(now_ms, the previous one), so
  // arrival times never decrease within the shard. Every Reserve() must be followed by Finish(),
  // also when the write failed, or the watermark stops there.
  Reservation Reserve(uint32_t count, int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // Adds the record at `offset` to `batch`, unless the shard was dropped: an append in flight
  // when its stream was deleted must not bring its records back.
  void AddToBatch(rocksdb::WriteBatch& batch, uint64_t offset, std::string_view encoded) const;
  // From now on AddToBatch adds nothing (the store is deleting the shard's records).
  void MarkDropped() { dropped_.store(true, std::memory_order_release); }
  // Adds the deletion of every record from `from_offset` on to `batch`.
  void AddDeleteFromToBatch(rocksdb::WriteBatch& batch, uint64_t from_offset) const;
  // Publishes [first_offset, first_offset + count) as written (or abandoned, after an error).
  void Finish(const Reservation& reservation, uint32_t count) ABSL_LOCKS_EXCLUDED(mu_);

  // Readers see offsets below this. Unreplicated, it is the durable end; replicated, the high
  // watermark the leader computes.
  uint64_t committed_end() const { return committed_end_.load(std::memory_order_acquire); }
  // The end of the gap-free prefix of finished local writes (what a leader may ship).
  uint64_t durable_end() const { return durable_end_.load(std::memory_order_acquire); }
  uint64_t trim_offset() const { return trim_offset_.load(std::memory_order_acquire); }
  // Arrival time of the newest committed record; 0 if none.
  int64_t last_arrival_ms() const { return last_arrival_ms_.load(std::memory_order_acquire); }

  // Moves the log's end to `end` after records were written at explicit offsets below it (a
  // shard copied from the node that owned it): appends continue there. Only while nothing
  // appends to this shard.
  void AdoptCopiedEnd(uint64_t end, int64_t last_arrival_ms) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `wake` once, on the thread that commits, as soon as committed_end() passes `offset`;
  // returns false without keeping `wake` when it already has. This is how a subscription waits
  // for its own shard only: an append wakes the waiters of the shards it wrote, no others.
  // `wake` must not block; it is dropped unrun if the ShardLog goes away first.
  bool NotifyWhenPast(uint64_t offset, std::function<void()> wake) ABSL_LOCKS_EXCLUDED(mu_);

  // Replication (docs/cluster.md §5.2). A replicated log's committed end moves only by
  // AdvanceHighWatermark, and a write's callback in the commit pipeline waits for it
  // (AwaitCommitted). Switching sets the committed end (lowering it is allowed: a shard starting
  // to lead shows readers only what it knows to be committed); switching off makes it the
  // durable end again.
  void SetReplicated(bool replicated, uint64_t committed_end) ABSL_LOCKS_EXCLUDED(mu_);
  bool replicated() const { return replicated_.load(std::memory_order_acquire); }
  // Runs `listener` (on the thread that finished the write; it must not block) whenever the
  // durable end of a replicated log advances. Null removes it.
  void SetDurableListener(std::function<void()> listener) ABSL_LOCKS_EXCLUDED(mu_);
  // Raises the committed end to min(hw, durable end); never lowers it.
  void AdvanceHighWatermark(uint64_t hw) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `done` once the committed end reaches `end`, or with the error of FailAwaiting; returns
  // false without keeping `done` when it already has. `now_ms`: when the wait began.
  bool AwaitCommitted(uint64_t end, int64_t now_ms, std::function<void(const Status&)> done)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Fails every AwaitCommitted waiter (leadership lost, replication timed out, shutdown);
  // `older_than_ms` >= 0 fails only those waiting since before that time.
  void FailAwaiting(const Status& status, int64_t older_than_ms = -1) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes the next offset without writing it: a hole readers pass over. A new leader opens its
  // epoch with one (its epoch marker), so that its inherited tail commits under its own epoch.
  void SkipOffset(int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // Forgets every offset from `end` on, after the rows there were deleted (a follower whose
  // uncommitted tail the leader does not have). Only while nothing appends to this shard.
  void TruncateTo(uint64_t end) ABSL_LOCKS_EXCLUDED(mu_);
  // As Read, but below the durable end: what a leader ships to its followers.
  StatusOr<ReadResult> ReadDurable(uint64_t from_offset, uint32_t max_records,
                                   uint64_t max_bytes) const;

  // Up to `max_records` records from `from_offset` on, stopping before `max_bytes` of data would
  // be exceeded (at least one record is returned when one is there), only below committed_end().
  StatusOr<ReadResult> Read(uint64_t from_offset, uint32_t max_records, uint64_t max_bytes) const;
  // The offset of the first record that arrived at or after `time_ms`; committed_end() if none.
  StatusOr<uint64_t> FindOffsetAtTime(int64_t time_ms) const;
  // Deletes every record that arrived before `cutoff_ms` and moves the trim offset past them;
  // how many records that was. When they filled a good part of a table file, their range is
  // handed to the reclaimer.
  StatusOr<uint64_t> TrimBefore(int64_t cutoff_ms);

 private:
  StatusOr<ReadResult> ReadBelow(uint64_t end, uint64_t from_offset, uint32_t max_records,
                                 uint64_t max_bytes) const;
  std::string KeyAt(uint64_t offset) const;
  // Names the shard in errors: "shard <ordinal> of stream id <id>".
  std::string Describe() const;
  // Moves the committed end to `end` and takes the waiters it satisfies; under mu_.
  void PublishCommittedLocked(uint64_t end, std::vector<std::function<void()>>& to_wake,
                              std::vector<std::function<void(const Status&)>>& to_ack)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Awaiting {
    std::function<void(const Status&)> done;
    int64_t since_ms = 0;
  };

  struct FinishedRange {
    uint64_t end = 0;
    int64_t arrival_ms = 0;
  };

  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle* const records_;
  const uint64_t stream_id_;
  const uint32_t shard_ordinal_;
  const Reclaimer reclaimer_;

  // A leaf lock: held only to reserve offsets or publish a range, never across I/O or a call
  // out (Finish() runs the waiters' wake-ups after releasing it).
  Mutex mu_;
  uint64_t next_offset_ ABSL_GUARDED_BY(mu_);
  int64_t last_reserved_arrival_ms_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, FinishedRange> finished_above_ ABSL_GUARDED_BY(mu_);        // start -> range
  std::multimap<uint64_t, std::function<void()>> waiters_ ABSL_GUARDED_BY(mu_);  // offset -> wake
  std::multimap<uint64_t, Awaiting> awaiting_ ABSL_GUARDED_BY(mu_);              // end -> ack
  std::function<void()> durable_listener_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> dropped_{false};
  std::atomic<bool> replicated_{false};
  std::atomic<uint64_t> durable_end_;
  std::atomic<uint64_t> committed_end_;
  std::atomic<uint64_t> trim_offset_;
  std::atomic<int64_t> last_arrival_ms_;
};

}  // namespace riffle::storage
