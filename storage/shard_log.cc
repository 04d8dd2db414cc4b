#include "storage/shard_log.h"

#include <algorithm>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "storage/records_column_family.h"
#include "storage/store.h"

namespace riffle::storage {
namespace {

// Trimmed records worth a compaction of their range (TrimBefore).
constexpr uint64_t kCompactTrimmedBytes = 4 * kMiB;

}  // namespace

ShardLog::ShardLog(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* records, uint64_t stream_id,
                   uint32_t shard_ordinal, uint64_t next_offset, uint64_t trim_offset,
                   int64_t last_arrival_ms, Reclaimer reclaimer)
    : db_(db),
      records_(records),
      stream_id_(stream_id),
      shard_ordinal_(shard_ordinal),
      reclaimer_(std::move(reclaimer)),
      next_offset_(next_offset),
      last_reserved_arrival_ms_(last_arrival_ms),
      durable_end_(next_offset),
      committed_end_(next_offset),
      trim_offset_(trim_offset),
      last_arrival_ms_(last_arrival_ms) {}

std::string ShardLog::KeyAt(uint64_t offset) const {
  return EncodeRecordKey(stream_id_, shard_ordinal_, offset);
}

std::string ShardLog::Describe() const {
  return "shard " + std::to_string(shard_ordinal_) + " of stream id " + std::to_string(stream_id_);
}

Reservation ShardLog::Reserve(uint32_t count, int64_t now_ms) {
  MutexLock lock(&mu_);
  Reservation reservation;
  reservation.first_offset = next_offset_;
  reservation.arrival_ms = std::max(now_ms, last_reserved_arrival_ms_);
  last_reserved_arrival_ms_ = reservation.arrival_ms;
  next_offset_ += count;
  return reservation;
}

void ShardLog::AddToBatch(rocksdb::WriteBatch& batch, uint64_t offset,
                          std::string_view encoded) const {
  if (dropped_.load(std::memory_order_acquire)) {
    return;
  }
  batch.Put(records_, KeyAt(offset), rocksdb::Slice(encoded.data(), encoded.size()))
      .PermitUncheckedError();
}

void ShardLog::AddDeleteFromToBatch(rocksdb::WriteBatch& batch, uint64_t from_offset) const {
  // The end is the next shard's first key: no offset of this shard is above the range.
  batch.DeleteRange(records_, KeyAt(from_offset), ShardKeyLimit(stream_id_, shard_ordinal_))
      .PermitUncheckedError();
}

void ShardLog::Finish(const Reservation& reservation, uint32_t count) {
  std::vector<std::function<void()>> to_wake;
  std::vector<std::function<void(const Status&)>> to_ack;
  std::function<void()> durable_listener;
  {
    MutexLock lock(&mu_);
    finished_above_[reservation.first_offset] =
        FinishedRange{reservation.first_offset + count, reservation.arrival_ms};
    uint64_t end = durable_end_.load(std::memory_order_relaxed);
    int64_t arrival = last_arrival_ms_.load(std::memory_order_relaxed);
    // Advance over the gap-free prefix only: a range finished above a hole waits for the hole.
    for (auto it = finished_above_.begin(); it != finished_above_.end() && it->first == end;
         it = finished_above_.erase(it)) {
      end = it->second.end;
      arrival = std::max(arrival, it->second.arrival_ms);
    }
    last_arrival_ms_.store(arrival, std::memory_order_release);
    durable_end_.store(end, std::memory_order_release);
    if (replicated_.load(std::memory_order_relaxed)) {
      durable_listener = durable_listener_;
    } else {
      PublishCommittedLocked(end, to_wake, to_ack);
    }
  }
  for (auto& wake : to_wake) {
    wake();
  }
  for (auto& ack : to_ack) {
    ack(Status());
  }
  if (durable_listener) {
    durable_listener();
  }
}

void ShardLog::PublishCommittedLocked(uint64_t end, std::vector<std::function<void()>>& to_wake,
                                      std::vector<std::function<void(const Status&)>>& to_ack) {
  committed_end_.store(end, std::memory_order_release);
  auto past = waiters_.lower_bound(end);
  for (auto it = waiters_.begin(); it != past; ++it) {
    to_wake.push_back(std::move(it->second));
  }
  waiters_.erase(waiters_.begin(), past);
  auto reached = awaiting_.upper_bound(end);
  for (auto it = awaiting_.begin(); it != reached; ++it) {
    to_ack.push_back(std::move(it->second.done));
  }
  awaiting_.erase(awaiting_.begin(), reached);
}

void ShardLog::SetReplicated(bool replicated, uint64_t committed_end) {
  std::vector<std::function<void()>> to_wake;
  std::vector<std::function<void(const Status&)>> to_ack;
  {
    MutexLock lock(&mu_);
    replicated_.store(replicated, std::memory_order_release);
    const uint64_t durable = durable_end_.load(std::memory_order_relaxed);
    PublishCommittedLocked(replicated ? std::min(committed_end, durable) : durable, to_wake,
                           to_ack);
  }
  for (auto& wake : to_wake) {
    wake();
  }
  for (auto& ack : to_ack) {
    ack(Status());
  }
}

void ShardLog::SetDurableListener(std::function<void()> listener) {
  MutexLock lock(&mu_);
  durable_listener_ = std::move(listener);
}

void ShardLog::AdvanceHighWatermark(uint64_t hw) {
  std::vector<std::function<void()>> to_wake;
  std::vector<std::function<void(const Status&)>> to_ack;
  {
    MutexLock lock(&mu_);
    const uint64_t end = std::min(hw, durable_end_.load(std::memory_order_relaxed));
    if (end <= committed_end_.load(std::memory_order_relaxed)) {
      return;
    }
    PublishCommittedLocked(end, to_wake, to_ack);
  }
  for (auto& wake : to_wake) {
    wake();
  }
  for (auto& ack : to_ack) {
    ack(Status());
  }
}

bool ShardLog::AwaitCommitted(uint64_t end, int64_t now_ms,
                              std::function<void(const Status&)> done) {
  MutexLock lock(&mu_);
  if (committed_end_.load(std::memory_order_relaxed) >= end) {
    return false;
  }
  awaiting_.emplace(end, Awaiting{std::move(done), now_ms});
  return true;
}

void ShardLog::FailAwaiting(const Status& status, int64_t older_than_ms) {
  std::vector<std::function<void(const Status&)>> to_fail;
  {
    MutexLock lock(&mu_);
    for (auto it = awaiting_.begin(); it != awaiting_.end();) {
      if (older_than_ms < 0 || it->second.since_ms < older_than_ms) {
        to_fail.push_back(std::move(it->second.done));
        it = awaiting_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& fail : to_fail) {
    fail(status);
  }
}

void ShardLog::SkipOffset(int64_t now_ms) {
  Finish(Reserve(1, now_ms), 1);
}

void ShardLog::TruncateTo(uint64_t end) {
  MutexLock lock(&mu_);
  next_offset_ = end;
  finished_above_.clear();
  durable_end_.store(end, std::memory_order_release);
  if (committed_end_.load(std::memory_order_relaxed) > end) {
    committed_end_.store(end, std::memory_order_release);
  }
}

void ShardLog::AdoptCopiedEnd(uint64_t end, int64_t last_arrival_ms) {
  {
    MutexLock lock(&mu_);
    if (end <= next_offset_) {
      return;
    }
    next_offset_ = end;
    last_reserved_arrival_ms_ = std::max(last_reserved_arrival_ms_, last_arrival_ms);
  }
  // Publishes through the ordinary path, which also wakes this shard's waiters.
  Finish(Reservation{durable_end(), last_arrival_ms}, static_cast<uint32_t>(end - durable_end()));
}

bool ShardLog::NotifyWhenPast(uint64_t offset, std::function<void()> wake) {
  MutexLock lock(&mu_);
  if (committed_end_.load(std::memory_order_relaxed) > offset) {
    return false;
  }
  waiters_.emplace(offset, std::move(wake));
  return true;
}

StatusOr<ReadResult> ShardLog::Read(uint64_t from_offset, uint32_t max_records,
                                    uint64_t max_bytes) const {
  return ReadBelow(committed_end(), from_offset, max_records, max_bytes);
}

StatusOr<ReadResult> ShardLog::ReadDurable(uint64_t from_offset, uint32_t max_records,
                                           uint64_t max_bytes) const {
  return ReadBelow(durable_end(), from_offset, max_records, max_bytes);
}

StatusOr<ReadResult> ShardLog::ReadBelow(uint64_t end, uint64_t from_offset, uint32_t max_records,
                                         uint64_t max_bytes) const {
  ReadResult result;
  const uint64_t start = std::max(from_offset, trim_offset());
  result.next_offset = std::max(from_offset, start);
  if (start >= end) {
    result.next_offset = std::max(from_offset, end);
    result.reached_end = true;
    return result;
  }
  const std::string upper = KeyAt(end);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(options, records_));
  uint64_t bytes = 0;
  for (it->Seek(KeyAt(start)); it->Valid(); it->Next()) {
    if (result.records.size() >= max_records) {
      return result;
    }
    const std::optional<RecordKey> key = DecodeRecordKey(it->key().ToStringView());
    std::optional<StoredRecord> record = DecodeRecord(it->value().ToStringView());
    if (!key || !record) {
      return Status(ErrorCode::kInternalFailure, "corrupt record in " + Describe());
    }
    const std::optional<uint64_t> offset = key->offset;
    uint64_t size = record->data.size() + record->partition_key.size();
    if (!result.records.empty() && bytes + size > max_bytes) {
      return result;
    }
    bytes += size;
    result.next_offset = *offset + 1;
    result.records.push_back(ReadRecord{*offset, std::move(*record)});
  }
  RIFFLE_RETURN_IF_ERROR(FromRocks(it->status()));
  result.next_offset = end;
  result.reached_end = true;
  return result;
}

StatusOr<uint64_t> ShardLog::FindOffsetAtTime(int64_t time_ms) const {
  const uint64_t end = committed_end();
  uint64_t lo = trim_offset();
  uint64_t hi = end;
  const std::string upper = KeyAt(end);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(options, records_));
  // Arrival times never decrease within a shard, so the first record at or after time_ms is
  // found by bisection. Offsets may have holes (abandoned writes): each probe seeks to the first
  // record at or after the midpoint.
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    it->Seek(KeyAt(mid));
    if (!it->Valid()) {
      RIFFLE_RETURN_IF_ERROR(FromRocks(it->status()));
      hi = mid;
      continue;
    }
    const std::optional<RecordKey> key = DecodeRecordKey(it->key().ToStringView());
    const std::optional<int64_t> arrival = DecodeRecordArrival(it->value().ToStringView());
    if (!key || !arrival) {
      return Status(ErrorCode::kInternalFailure, "corrupt record in " + Describe());
    }
    const std::optional<uint64_t> offset = key->offset;
    if (*arrival >= time_ms) {
      hi = mid;
    } else {
      lo = *offset + 1;
    }
  }
  return lo;
}

StatusOr<uint64_t> ShardLog::TrimBefore(int64_t cutoff_ms) {
  RIFFLE_ASSIGN_OR_RETURN(uint64_t first_kept, FindOffsetAtTime(cutoff_ms));
  uint64_t trim = trim_offset();
  if (first_kept <= trim) {
    return 0;
  }
  const std::string begin_key = KeyAt(0);
  const std::string end_key = KeyAt(first_kept);
  // Move the horizon first: a reader that already passed the check must not find deleted keys
  // returned as present, and one that starts later starts above them.
  trim_offset_.store(first_kept, std::memory_order_release);
  const uint64_t trimmed_bytes = ApproximateTableBytes(db_, records_, begin_key, end_key);
  RIFFLE_RETURN_IF_ERROR(
      FromRocks(db_.DeleteRange(rocksdb::WriteOptions(), records_, begin_key, end_key)));
  // Compacting a range rewrites every table file it overlaps, other shards' records included:
  // worth it once the trimmed records fill a good part of a file. Smaller trims are given
  // back by the compactions that writes cause anyway.
  if (trimmed_bytes >= kCompactTrimmedBytes && reclaimer_) {
    reclaimer_(begin_key, end_key);
  }
  return first_kept - trim;
}

}  // namespace riffle::storage
