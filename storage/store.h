// Owns the RocksDB database of one data directory: the `catalog` column family (streams,
// shards, the iterator-signing secret) and one column family per shard, sharing one memtable
// budget (WriteBufferManager) and one block cache so memory stays bounded with many shards.
//
// Thread-safe. Column family creation and drops are serialized by cf_mu_; writes and reads
// are not.
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

  // The shard's log: opens the column family (creating it if missing) on first use.
  StatusOr<std::shared_ptr<ShardLog>> OpenShard(uint64_t stream_id, uint32_t shard_ordinal)
      ABSL_LOCKS_EXCLUDED(cf_mu_);
  // The same for many shards of one stream, creating the missing column families together.
  StatusOr<std::vector<std::shared_ptr<ShardLog>>> OpenShards(
      uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals) ABSL_LOCKS_EXCLUDED(cf_mu_);
  // Drops the shards' column families; their data goes away once every holder of a ShardLog is
  // done with it. All of them cost one RocksDB metadata update, not one per shard.
  Status DropShards(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals)
      ABSL_LOCKS_EXCLUDED(cf_mu_);
  // The same on the store's drop thread: returns once the handles are claimed, without waiting
  // for the drop, which rewrites RocksDB's OPTIONS file listing every column family of the
  // node (claiming waits only for a drop or create already under way). Until dropped, the
  // shards cannot be opened again. A drop still queued when the store closes is finished by
  // the next start, which drops every column family no catalog entry names.
  void DropShardsInBackground(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals)
      ABSL_LOCKS_EXCLUDED(cf_mu_, drop_mu_);
  // Drops every shard column family not named in `live` (left by a crash in the middle of a
  // CreateStream or DeleteStream).
  Status DropShardsExcept(const std::set<std::string>& live) ABSL_LOCKS_EXCLUDED(cf_mu_);

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
    uint64_t shards_to_drop = 0;       // queued by DropShardsInBackground, not dropped yet
    CommitTimes commit_times;
  };
  Stats stats() const;

 private:
  Store(const StoreOptions& options, std::unique_ptr<rocksdb::DB> db,
        std::shared_ptr<rocksdb::Cache> cache);
  void SyncLoop() ABSL_LOCKS_EXCLUDED(sync_mu_);
  void DropLoop() ABSL_LOCKS_EXCLUDED(cf_mu_, drop_mu_);
  // Reads every table file once and logs the damaged ones (storage/table_check.h).
  void CheckTablesAtStart();
  // Drops `handles` in one RocksDB call, then destroys those of them in `owned` (handles no
  // ShardLog holds).
  Status DropColumnFamiliesLocked(const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                                  const std::vector<rocksdb::ColumnFamilyHandle*>& owned)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(cf_mu_);
  // The handles of the shards' column families, taken out of the maps that open shards: from
  // then on no OpenShards hands them out.
  // Their names stay in dropping_ until the drop.
  struct ClaimedShards {
    uint64_t stream_id = 0;
    std::vector<std::string> names;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;  // all of them, to drop
    std::vector<rocksdb::ColumnFamilyHandle*> owned;    // those no ShardLog holds
    std::vector<std::shared_ptr<ShardLog>> live;        // keep the others' handles valid
  };
  ClaimedShards ClaimShardsLocked(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(cf_mu_);
  Status DropClaimedLocked(const ClaimedShards& claimed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(cf_mu_);
  // Lets the claimed ShardLogs go (their table files go with the last holder) and releases the
  // write-ahead log after a drop that succeeded; returns `dropped`.
  Status FinishDrop(ClaimedShards claimed, const Status& dropped) ABSL_LOCKS_EXCLUDED(cf_mu_);
  // A dropped column family's records stay in the write-ahead log files until every other
  // column family with records in them has flushed, which for a slowly written shard can be
  // never before a restart. Starts flushes of the column families with unflushed records, so
  // RocksDB deletes those files (and a deleted stream's disk comes back) within seconds. Runs
  // without cf_mu_: switching thousands of memtables must not hold up shard opening.
  void ReleaseWal() ABSL_LOCKS_EXCLUDED(cf_mu_);

  const StoreOptions options_;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* catalog_ = nullptr;
  std::unique_ptr<CommitPipeline> pipeline_;
  CatalogPublisher publisher_;  // before db_ closes, it commits what is queued

  // Serializes column family creation and drops. Held across those RocksDB calls (they are
  // rare: CreateStream, reshard, DeleteStream); no other lock is taken while it is held.
  Mutex cf_mu_;
  // Column families opened at start that no ShardLog has claimed yet.
  std::map<std::string, rocksdb::ColumnFamilyHandle*> unclaimed_ ABSL_GUARDED_BY(cf_mu_);
  std::map<std::string, std::weak_ptr<ShardLog>> shards_ ABSL_GUARDED_BY(cf_mu_);
  // Column families claimed for a drop that has not happened yet (ClaimedShards).
  std::set<std::string> dropping_ ABSL_GUARDED_BY(cf_mu_);

  // kInterval: a thread that syncs the WAL every options_.fsync_interval.
  Mutex sync_mu_;
  CondVar sync_cv_;
  bool stopping_ ABSL_GUARDED_BY(sync_mu_) = false;
  std::thread sync_thread_;

  Mutex drop_mu_;
  CondVar drop_cv_;
  std::deque<ClaimedShards> pending_drops_ ABSL_GUARDED_BY(drop_mu_);
  bool stop_drops_ ABSL_GUARDED_BY(drop_mu_) = false;
  std::atomic<uint64_t> shards_to_drop_{0};
  std::thread drop_thread_;

  std::thread table_check_thread_;
  std::atomic<bool> stop_table_check_{false};
  std::atomic<uint64_t> damaged_table_files_{0};
};

}  // namespace riffle::storage
