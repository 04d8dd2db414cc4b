// Owns the RocksDB database of one data directory: the `catalog` column family (streams,
// shards, the iterator-signing secret) and the `records` column family, which holds every
// shard's records as one key range each (docs/storage-format.md). A shard costs nothing until
// it is opened, and an open one a ShardLog, so a node's start and memory do not grow with its
// idle shards.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <absl/base/thread_annotations.h>

#include "common/mutex.h"
#include "common/status.h"
#include "storage/catalog_change.h"
#include "storage/commit_pipeline.h"
#include "storage/shard_log.h"
#include "storage/store_options.h"

namespace rocksdb {
class DB;
class Status;
class Cache;
class WriteBufferManager;
}  // namespace rocksdb

namespace riffle::storage {

// The one translation of RocksDB errors: storage only ever says kInternalFailure or
// kServiceUnavailable (disk full, shutting down); every 4xx judgement is the broker's.
Status FromRocks(const rocksdb::Status& status);

class Store {
 public:
  // Opens (creating if missing) the database in options.data_dir. Fails with a clear message
  // when another process holds the directory.
  static StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Catalog access. Scan returns every key/value under `prefix`, in key order.
  StatusOr<std::vector<std::pair<std::string, std::string>>> ScanCatalog(
      std::string_view prefix) const;
  StatusOr<std::optional<std::string>> GetCatalog(std::string_view key) const;

  // One atomic, synced catalog change (catalog changes are rare and must not be lost). With a
  // publisher set, the change is published first and not applied if that fails.
  using CatalogChange = storage::CatalogChange;
  Status WriteCatalog(const CatalogChange& change);
  // Applies a change this node did not make (a cluster's catalog, copied from etcd): no publish.
  Status ApplyCatalog(const CatalogChange& change);
  // In a cluster, where every catalog change is published before it is applied. Set before the
  // broker is opened.
  void SetCatalogPublisher(CatalogPublisher publisher) { publisher_ = std::move(publisher); }
  // The write path of shard records, synced according to the fsync mode.
  CommitPipeline& pipeline() { return *pipeline_; }

  // Records copied from another node into one shard, as one synced WriteBatch: deletes every
  // record from `truncate_from` on (a follower's tail its leader does not have), writes
  // `records` at their own offsets (offset, EncodeRecord value), stores `catalog_put` (the
  // replica's state, docs/cluster.md §5.1) with them, then moves the shard's end to `end`. Only
  // while nothing appends to the shard.
  struct CopiedRecords {
    std::optional<uint64_t> truncate_from;
    std::vector<std::pair<uint64_t, std::string>> records;
    uint64_t end = 0;
    std::optional<std::pair<std::string, std::string>> catalog_put;
  };
  Status WriteCopiedRecords(uint64_t stream_id, uint32_t shard_ordinal,
                            const CopiedRecords& copied);
  // The same for several distinct shards, in one synced WriteBatch.
  struct ShardCopy {
    uint64_t stream_id = 0;
    uint32_t shard_ordinal = 0;
    CopiedRecords copied;
  };
  Status WriteCopiedRecords(const std::vector<ShardCopy>& copies);

  // The shard's log, opened on first use: its positions are read from the records.
  StatusOr<std::shared_ptr<ShardLog>> OpenShard(uint64_t stream_id, uint32_t shard_ordinal)
      ABSL_LOCKS_EXCLUDED(shards_mu_);
  // The same for many shards of one stream.
  StatusOr<std::vector<std::shared_ptr<ShardLog>>> OpenShards(
      uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals)
      ABSL_LOCKS_EXCLUDED(shards_mu_);
  // Deletes the shards' records (one range deletion each, all in one synced write); a later
  // OpenShard finds them empty. Their disk is given back by a compaction on the store's drop
  // thread (one still queued when the store closes is left to the compactions that writes
  // cause). A ShardLog still held reads nothing more and appends nothing.
  Status DropShards(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals)
      ABSL_LOCKS_EXCLUDED(shards_mu_, drop_mu_);
  // The same entirely on the drop thread (DeleteStream answers without waiting for it); until
  // then the shards cannot be opened again. A range deletion still queued (or failed) when the
  // store closes is done by the next start, which deletes the records of every shard no
  // catalog entry names.
  void DropShardsInBackground(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals)
      ABSL_LOCKS_EXCLUDED(shards_mu_, drop_mu_);
  // Deletes the records of every shard not in `live` (left by a crash in the middle of a
  // CreateStream or DeleteStream, or written by an append that was in flight when its stream
  // was deleted).
  using ShardRef = std::pair<uint64_t, uint32_t>;  // stream id, shard ordinal
  Status DropShardsExcept(const std::set<ShardRef>& live) ABSL_LOCKS_EXCLUDED(shards_mu_, drop_mu_);

  // Bytes of the stream's records in table files, estimated from the files' indexes (records
  // not yet flushed are in the write-ahead log only).
  uint64_t StreamDiskBytes(uint64_t stream_id) const;

  const StoreOptions& options() const { return options_; }

  // The health of the store as a whole, for the metrics.
  struct Stats {
    uint64_t wal_bytes = 0;  // the write-ahead log files on disk
    // The data directory's filesystem: what an unprivileged writer may still use, and its size.
    uint64_t filesystem_available_bytes = 0;
    uint64_t filesystem_size_bytes = 0;
    uint64_t pending_compaction_bytes = 0;
    bool writes_stopped = false;       // RocksDB stopped writes (too many files or memtables)
    uint64_t delayed_write_rate = 0;   // bytes/s RocksDB slows writes to; 0 when not slowed
    uint64_t damaged_table_files = 0;  // found by the check at start (storage/table_check.h)
    uint64_t shards_to_drop = 0;       // dropped shards whose disk is not given back yet
    CommitTimes commit_times;
  };
  Stats stats() const;

 private:
  Store(const StoreOptions& options, std::unique_ptr<rocksdb::DB> db,
        std::shared_ptr<rocksdb::Cache> cache);
  void SyncLoop() ABSL_LOCKS_EXCLUDED(sync_mu_);
  // Reads every table file once and logs the damaged ones (storage/table_check.h).
  void CheckTablesAtStart();

  // Work of the drop thread: the range deletions of dropped shards (unless `deleted`), then
  // the compaction of `ranges`, so the table files are rewritten without them.
  struct ShardDrop {
    uint64_t stream_id = 0;
    std::vector<uint32_t> ordinals;  // the dropped shards; none for a retention trim
    bool deleted = false;
    std::vector<std::pair<std::string, std::string>> ranges;  // [begin, end) of `records`
  };
  // A drop of the shards, with one range to compact for each run of consecutive ordinals (the
  // range between two runs holds other shards' records).
  static ShardDrop DropOf(uint64_t stream_id, std::vector<uint32_t> shard_ordinals, bool deleted);
  void QueueDrop(ShardDrop drop) ABSL_LOCKS_EXCLUDED(drop_mu_);
  void DropLoop() ABSL_LOCKS_EXCLUDED(shards_mu_, drop_mu_);
  // Takes the shard out of the open ones; a ShardLog of it still held appends nothing more.
  void ForgetShardLocked(const ShardRef& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shards_mu_);
  // One synced write of a range deletion per shard; open ShardLogs of them append nothing more.
  Status DeleteShardsLocked(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shards_mu_);
  // Compacts the drop's ranges and flushes what pins the write-ahead log files that hold them.
  Status ReclaimDisk(const ShardDrop& drop);

  const StoreOptions options_;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* catalog_ = nullptr;
  rocksdb::ColumnFamilyHandle* records_ = nullptr;
  std::unique_ptr<CommitPipeline> pipeline_;
  CatalogPublisher publisher_;  // before db_ closes, it commits what is queued

  // Guards the open shards. Held across a drop's synced write (rare: DeleteStream, reshard,
  // retention of closed shards), so that no OpenShards reads a shard's positions while its
  // records are being deleted; no other lock is taken while it is held.
  Mutex shards_mu_;
  std::map<ShardRef, std::weak_ptr<ShardLog>> shards_ ABSL_GUARDED_BY(shards_mu_);
  // Shards queued by DropShardsInBackground whose records are not deleted yet.
  std::set<ShardRef> dropping_ ABSL_GUARDED_BY(shards_mu_);

  // kInterval: a thread that syncs the WAL every options_.fsync_interval.
  Mutex sync_mu_;
  CondVar sync_cv_;
  bool stopping_ ABSL_GUARDED_BY(sync_mu_) = false;
  std::thread sync_thread_;

  Mutex drop_mu_;
  CondVar drop_cv_;
  std::deque<ShardDrop> pending_drops_ ABSL_GUARDED_BY(drop_mu_);
  bool stop_drops_ ABSL_GUARDED_BY(drop_mu_) = false;
  std::atomic<uint64_t> shards_to_drop_{0};
  std::thread drop_thread_;

  std::thread table_check_thread_;
  std::atomic<bool> stop_table_check_{false};
  std::atomic<uint64_t> damaged_table_files_{0};
};

}  // namespace riffle::storage
