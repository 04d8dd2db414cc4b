// Appends to and reads one shard's column family.
//
// Shared (shared_ptr) by the Store's index and its users: a reader or writer that still holds
// the ShardLog of a dropped stream keeps its column family handle alive until it lets go. Must
// not outlive the Store that opened it. Thread-safe.
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
  // Takes ownership of `handle`. `next_offset` and `trim_offset` come from the data on disk.
  ShardLog(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* handle, uint64_t next_offset,
           uint64_t trim_offset, int64_t last_arrival_ms);
  ~ShardLog();
  ShardLog(const ShardLog&) = delete;
  ShardLog& operator=(const ShardLog&) = delete;

  // Reserves `count` consecutive offsets. The arrival time is max(now_ms, the previous one), so
  // arrival times never decrease within the shard. Every Reserve() must be followed by Finish(),
  // also when the write failed, or the watermark stops there.
  Reservation Reserve(uint32_t count, int64_t now_ms) ABSL_LOCKS_EXCLUDED(mu_);
  // Adds the record at `offset` to `batch`.
  void AddToBatch(rocksdb::WriteBatch& batch, uint64_t offset, std::string_view encoded) const;
  // Publishes [first_offset, first_offset + count) as written (or abandoned, after an error).
  void Finish(const Reservation& reservation, uint32_t count) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t committed_end() const { return committed_end_.load(std::memory_order_acquire); }
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

  // Up to `max_records` records from `from_offset` on, stopping before `max_bytes` of data would
  // be exceeded (at least one record is returned when one is there), only below committed_end().
  StatusOr<ReadResult> Read(uint64_t from_offset, uint32_t max_records, uint64_t max_bytes) const;
  // The offset of the first record that arrived at or after `time_ms`; committed_end() if none.
  StatusOr<uint64_t> FindOffsetAtTime(int64_t time_ms) const;
  // Deletes every record that arrived before `cutoff_ms` and moves the trim offset past them.
  Status TrimBefore(int64_t cutoff_ms);

  rocksdb::ColumnFamilyHandle* handle() const { return handle_; }

 private:
  struct FinishedRange {
    uint64_t end = 0;
    int64_t arrival_ms = 0;
  };

  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle* const handle_;

  // A leaf lock: held only to reserve offsets or publish a range, never across I/O or a call
  // out (Finish() runs the waiters' wake-ups after releasing it).
  Mutex mu_;
  uint64_t next_offset_ ABSL_GUARDED_BY(mu_);
  int64_t last_reserved_arrival_ms_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, FinishedRange> finished_above_ ABSL_GUARDED_BY(mu_);        // start -> range
  std::multimap<uint64_t, std::function<void()>> waiters_ ABSL_GUARDED_BY(mu_);  // offset -> wake

  std::atomic<uint64_t> committed_end_;
  std::atomic<uint64_t> trim_offset_;
  std::atomic<int64_t> last_arrival_ms_;
};

}  // namespace riffle::storage
