#include "storage/store.h"

#include <chrono>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <spdlog/spdlog.h>

#include "storage/table_check.h"
#include "storage/wal_check.h"

namespace riffle::storage {
namespace {

constexpr char kCatalogColumnFamily[] = "catalog";

rocksdb::ColumnFamilyOptions ShardColumnFamilyOptions(
    const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  options.write_buffer_size = 8 * kMiB;  // per shard; the shared WriteBufferManager caps the sum
  // A memtable's memory grows by arena blocks, and the WriteBufferManager counts whole blocks.
  // RocksDB's default block (an eighth of the write buffer, 1 MiB) charged 1 MiB to the 32 MiB
  // budget for every shard written, so writes spread over many shards flushed tiny memtables
  // continuously (thousands of small table files, a third of the throughput). With the
  // smallest block a shard's first records fit the memtable's 2 KiB inline block.
  options.arena_block_size = 4 * 1024;
  options.compression = rocksdb::kLZ4Compression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.block_size = 16 * 1024;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

Status StoreOptions::Validate() const {
  if (data_dir.empty()) {
    return Status(ErrorCode::kInvalidArgument, "the data directory must not be empty");
  }
  if (fsync_interval < std::chrono::milliseconds(1) ||
      fsync_interval > std::chrono::milliseconds(10000)) {
    return Status(ErrorCode::kInvalidArgument, "the fsync interval must be 1 ms .. 10000 ms");
  }
  if (write_buffer_budget_bytes < 4 * kMiB) {
    return Status(ErrorCode::kInvalidArgument, "the write buffer budget must be at least 4 MiB");
  }
  return Status();
}

bool IsDiskFull(const rocksdb::Status& status) {
  // After the first failure RocksDB answers with its saved background error, whose subcode
  // may be lost on the way: its text still names the cause.
  return status.IsNoSpace() || status.ToString().find("No space left") != std::string::npos;
}

Status FromRocks(const rocksdb::Status& status) {
  if (status.ok()) {
    return Status();
  }
  if (IsDiskFull(status)) {
    return Status(ErrorCode::kServiceUnavailable,
                  "The disk of the data directory is full: writes are refused until space is "
                  "freed; reads go on.");
  }
  if (status.IsShutdownInProgress() || status.IsBusy() || status.IsTryAgain()) {
    return Status(ErrorCode::kServiceUnavailable, "storage unavailable: " + status.ToString());
  }
  return Status(ErrorCode::kInternalFailure, "storage failure: " + status.ToString());
}

StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  RIFFLE_RETURN_IF_ERROR(options.Validate());
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Status(ErrorCode::kInternalFailure, "cannot create data directory " +
                                                   options.data_dir.string() + ": " + ec.message());
  }
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Debian's RocksDB is built without NDEBUG, so its default log level is DEBUG.
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 4;
  // A log file is deleted once every column family with records in it has flushed them. With
  // a column family per shard, one rarely written shard could keep every log since its last
  // flush; past this total RocksDB flushes the column families that hold the oldest one.
  db_options.max_total_wal_size = 4 * options.write_buffer_budget_bytes;
  db_options.max_background_jobs = 2;
  db_options.max_open_files = options.max_open_table_files;
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.write_buffer_budget_bytes, cache);
  // Concurrent writers with sync=true form one write group: one WAL write, one fsync. Followers
  // block instead of spin-yielding while the leader syncs: on 2 cores the spinning cost more
  // CPU than the fsync it waited for.
  db_options.enable_pipelined_write = false;
  db_options.enable_write_thread_adaptive_yield = false;
  // At open RocksDB loads each column family's table files with a pool of threads it creates
  // for that column family alone: with thousands of shards, starting threads was a third of
  // the start time. Opened inline, and without reading every file's statistics, a restart
  // costs what the catalog and the WAL cost.
  db_options.max_file_opening_threads = 1;
  db_options.skip_stats_update_on_db_open = true;
  db_options.skip_checking_sst_file_sizes_on_db_open = true;

  const std::string path = options.data_dir.string();
  std::vector<std::string> names;
  rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, path, &names);
  if (!listed.ok()) {
    names = {rocksdb::kDefaultColumnFamilyName};  // a new database
  }
  if (std::find(names.begin(), names.end(), kCatalogColumnFamily) == names.end()) {
    names.emplace_back(kCatalogColumnFamily);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(
        name, name == rocksdb::kDefaultColumnFamilyName || name == kCatalogColumnFamily
                  ? rocksdb::ColumnFamilyOptions()
                  : ShardColumnFamilyOptions(cache));
  }
  RIFFLE_ASSIGN_OR_RETURN(const WalScan wal, ScanWal(options.data_dir));
  const std::optional<WalDamage>& damage = wal.damage;
  // What recovery replays is flushed at open, so the replayed logs are retired then. Keeping
  // it in memtables (half of a restart at 10,000 shards saved) left logs pinned by a few
  // recovered records of live shards once the column families that filled them had been
  // dropped before a kill, and after a crash a torn log beside newer ones (WalScan).
  db_options.avoid_flush_during_recovery = false;
  if (damage && !options.accept_wal_damage) {
    return Status(ErrorCode::kInternalFailure,
                  fmt::format("the write-ahead log {} in {} is damaged at byte {}, and {} intact "
                              "records follow the damage: replaying it would silently drop "
                              "them. Restore the data directory (in a cluster: empty it, and the "
                              "node is filled again from its peers), or start with "
                              "--accept-wal-damage to keep only what precedes the damage.",
                              damage->file, path, damage->offset, damage->intact_after));
  }
  if (damage) {
    spdlog::error(
        "the write-ahead log {} in {} is damaged at byte {}; --accept-wal-damage: the "
        "{} records after it are dropped",
        damage->file, path, damage->offset, damage->intact_after);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!opened.ok()) {
    if (opened.IsIOError() && opened.ToString().find("lock") != std::string::npos) {
      return Status(ErrorCode::kServiceUnavailable,
                    "data directory " + path +
                        " is in use by another riffled (its RocksDB LOCK is held); stop that "
                        "process or choose another --data-dir");
    }
    return FromRocks(opened);
  }
  std::unique_ptr<Store> store(new Store(options, std::unique_ptr<rocksdb::DB>(raw), cache));
  MutexLock lock(&store->cf_mu_);  // uncontended: nothing else has the store yet
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (handle->GetName() == kCatalogColumnFamily) {
      store->catalog_ = handle;
    } else if (handle->GetName() == rocksdb::kDefaultColumnFamilyName) {
      raw->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    } else {
      store->unclaimed_[handle->GetName()] = handle;
    }
  }
  if (options.fsync == FsyncMode::kInterval) {
    store->sync_thread_ = std::thread([s = store.get()] { s->SyncLoop(); });
  }
  store->drop_thread_ = std::thread([s = store.get()] { s->DropLoop(); });
  if (options.check_tables_at_start) {
    store->table_check_thread_ = std::thread([s = store.get()] { s->CheckTablesAtStart(); });
  }
  return store;
}

Store::Store(const StoreOptions& options, std::unique_ptr<rocksdb::DB> db,
             std::shared_ptr<rocksdb::Cache> cache)
    : options_(options),
      block_cache_(std::move(cache)),
      db_(std::move(db)),
      pipeline_(std::make_unique<CommitPipeline>(
          *db_, options.fsync == FsyncMode::kAlways,
          DiskSpaceGuard(options.data_dir, options.min_free_disk_bytes))) {}

Store::~Store() {
  stop_table_check_ = true;
  if (table_check_thread_.joinable()) {
    table_check_thread_.join();
  }
  {
    MutexLock lock(&drop_mu_);
    stop_drops_ = true;  // the drop under way finishes; the queued ones wait for the next start
  }
  drop_cv_.SignalAll();
  if (drop_thread_.joinable()) {
    drop_thread_.join();
  }
  // Drops that did not start: their handles close with the others, before the database.
  std::deque<ClaimedShards> not_started;
  {
    MutexLock lock(&drop_mu_);
    not_started.swap(pending_drops_);
  }
  {
    MutexLock lock(&cf_mu_);
    for (ClaimedShards& drop : not_started) {
      for (rocksdb::ColumnFamilyHandle* handle : drop.owned) {
        unclaimed_[handle->GetName()] = handle;
      }
    }
  }
  not_started.clear();
  pipeline_.reset();
  {
    MutexLock lock(&sync_mu_);
    stopping_ = true;
  }
  sync_cv_.SignalAll();
  if (sync_thread_.joinable()) {
    sync_thread_.join();
  }
  // Whatever kNever/kInterval acknowledged reaches the disk on a clean shutdown.
  db_->SyncWAL().PermitUncheckedError();
  for (auto& [name, handle] : unclaimed_) {
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->DestroyColumnFamilyHandle(catalog_).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
}

void Store::SyncLoop() {
  MutexLock lock(&sync_mu_);
  for (;;) {
    const auto due = std::chrono::steady_clock::now() + options_.fsync_interval;
    while (!stopping_ && !sync_cv_.WaitWithDeadline(&sync_mu_, due)) {
      // woken early without stopping_: wait out the interval
    }
    if (stopping_) {
      return;
    }
    sync_mu_.Unlock();
    db_->SyncWAL().PermitUncheckedError();  // a failure shows up on the next write
    sync_mu_.Lock();
  }
}

void Store::CheckTablesAtStart() {
  const auto start = std::chrono::steady_clock::now();
  // Reported as found: on a large data directory the check takes long, the alert should not.
  const TableCheckResult result =
      CheckTables(*db_, stop_table_check_, [this](const DamagedTable& table) {
        ++damaged_table_files_;
        spdlog::error(
            "the table file {} ({}) is damaged: {}. Reads of the records it holds fail "
            "and it is never served as data; restore the data directory (in a cluster: "
            "empty it, and the node is filled again from its peers).",
            table.file, table.column_family, table.message);
      });
  if (result.stopped) {
    return;  // shutting down
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("checked the block checksums of {} table files ({} MiB) in {:.1f} s: {} damaged",
               result.files_checked + result.damaged.size(), result.bytes_checked / kMiB, seconds,
               result.damaged.size());
}

StatusOr<std::vector<std::pair<std::string, std::string>>> Store::ScanCatalog(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), catalog_));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()));
       it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  RIFFLE_RETURN_IF_ERROR(FromRocks(it->status()));
  return out;
}

StatusOr<std::optional<std::string>> Store::GetCatalog(std::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), catalog_, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) {
    return std::optional<std::string>();
  }
  RIFFLE_RETURN_IF_ERROR(FromRocks(s));
  return std::optional<std::string>(std::move(value));
}

Status Store::WriteCatalog(const CatalogChange& change) {
  if (publisher_) {
    RIFFLE_RETURN_IF_ERROR(publisher_(change));
  }
  return ApplyCatalog(change);
}

Status Store::ApplyCatalog(const CatalogChange& change) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : change.puts) {
    RIFFLE_RETURN_IF_ERROR(FromRocks(batch.Put(catalog_, key, value)));
  }
  for (const std::string& key : change.deletes) {
    RIFFLE_RETURN_IF_ERROR(FromRocks(batch.Delete(catalog_, key)));
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  return FromRocks(db_->Write(write_options, &batch));
}

Status Store::WriteCopiedRecords(uint64_t stream_id, uint32_t shard_ordinal,
                                 const CopiedRecords& copied) {
  return WriteCopiedRecords({ShardCopy{stream_id, shard_ordinal, copied}});
}

Status Store::WriteCopiedRecords(const std::vector<ShardCopy>& copies) {
  rocksdb::WriteBatch batch;
  std::vector<std::shared_ptr<ShardLog>> logs;
  std::vector<int64_t> last_arrivals;
  for (const ShardCopy& copy : copies) {
    RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<ShardLog> log,
                            OpenShard(copy.stream_id, copy.shard_ordinal));
    const CopiedRecords& copied = copy.copied;
    if (copied.truncate_from) {
      batch
          .DeleteRange(log->handle(), EncodeOffsetKey(*copied.truncate_from),
                       EncodeOffsetKey(std::numeric_limits<uint64_t>::max()))
          .PermitUncheckedError();
    }
    int64_t last_arrival_ms = log->last_arrival_ms();
    for (const auto& [offset, encoded] : copied.records) {
      log->AddToBatch(batch, offset, encoded);
      last_arrival_ms = std::max(last_arrival_ms, DecodeRecordArrival(encoded).value_or(0));
    }
    if (copied.catalog_put) {
      batch.Put(catalog_, copied.catalog_put->first, copied.catalog_put->second)
          .PermitUncheckedError();
    }
    logs.push_back(std::move(log));
    last_arrivals.push_back(last_arrival_ms);
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  RIFFLE_RETURN_IF_ERROR(FromRocks(db_->Write(write_options, &batch)));
  for (size_t i = 0; i < copies.size(); ++i) {
    if (copies[i].copied.truncate_from) {
      logs[i]->TruncateTo(*copies[i].copied.truncate_from);
    }
    logs[i]->AdoptCopiedEnd(copies[i].copied.end, last_arrivals[i]);
  }
  return Status();
}

StatusOr<std::shared_ptr<ShardLog>> Store::OpenShard(uint64_t stream_id, uint32_t shard_ordinal) {
  RIFFLE_ASSIGN_OR_RETURN(std::vector<std::shared_ptr<ShardLog>> logs,
                          OpenShards(stream_id, {shard_ordinal}));
  return logs.front();
}

StatusOr<std::vector<std::shared_ptr<ShardLog>>> Store::OpenShards(
    uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals) {
  MutexLock lock(&cf_mu_);
  std::vector<std::shared_ptr<ShardLog>> logs(shard_ordinals.size());
  std::vector<rocksdb::ColumnFamilyHandle*> handles(shard_ordinals.size(), nullptr);
  std::vector<std::string> names;
  std::vector<std::string> to_create;
  std::vector<size_t> created_at;
  for (size_t i = 0; i < shard_ordinals.size(); ++i) {
    names.push_back(ShardColumnFamilyName(stream_id, shard_ordinals[i]));
    if (dropping_.count(names[i]) != 0) {
      // A deleted stream's shard (a late copy from a peer, say): creating it again would leave
      // a column family no catalog entry names.
      return Status(ErrorCode::kServiceUnavailable, "shard column family " + names[i] +
                                                        " belongs to a deleted stream and is "
                                                        "being dropped");
    }
    if (auto it = shards_.find(names[i]); it != shards_.end()) {
      if ((logs[i] = it->second.lock())) {
        continue;
      }
    }
    if (auto it = unclaimed_.find(names[i]); it != unclaimed_.end()) {
      handles[i] = it->second;
      unclaimed_.erase(it);
    } else {
      to_create.push_back(names[i]);
      created_at.push_back(i);
    }
  }
  // One call for all new column families: it writes the MANIFEST (and syncs it) once, where
  // one call per shard took about a minute for a 1000-shard CreateStream.
  if (!to_create.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    RIFFLE_RETURN_IF_ERROR(FromRocks(
        db_->CreateColumnFamilies(ShardColumnFamilyOptions(block_cache_), to_create, &created)));
    for (size_t k = 0; k < created.size(); ++k) {
      handles[created_at[k]] = created[k];
    }
  }
  for (size_t i = 0; i < handles.size(); ++i) {
    if (handles[i] == nullptr) {
      continue;  // already open
    }
    // Recover the shard's positions from its data: the next offset follows the last record,
    // the trim offset is the first record still present.
    uint64_t next_offset = 0;
    uint64_t trim_offset = 0;
    int64_t last_arrival_ms = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles[i]));
    it->SeekToLast();
    if (it->Valid()) {
      next_offset = DecodeOffsetKey(it->key().ToStringView()).value_or(0) + 1;
      last_arrival_ms = DecodeRecordArrival(it->value().ToStringView()).value_or(0);
      it->SeekToFirst();
      trim_offset = it->Valid() ? DecodeOffsetKey(it->key().ToStringView()).value_or(0) : 0;
    }
    if (Status read = FromRocks(it->status()); !read.ok()) {
      // A damaged table file, say. The handles not yet owned by a ShardLog go back to the
      // unclaimed ones, which the store destroys before it closes the database.
      for (size_t k = i; k < handles.size(); ++k) {
        if (handles[k] != nullptr) {
          unclaimed_[names[k]] = handles[k];
        }
      }
      return read;
    }
    logs[i] =
        std::make_shared<ShardLog>(*db_, handles[i], next_offset, trim_offset, last_arrival_ms);
    shards_[names[i]] = logs[i];
  }
  return logs;
}

Store::ClaimedShards Store::ClaimShardsLocked(uint64_t stream_id,
                                              const std::vector<uint32_t>& shard_ordinals) {
  ClaimedShards claimed;
  claimed.stream_id = stream_id;
  for (uint32_t ordinal : shard_ordinals) {
    std::string name = ShardColumnFamilyName(stream_id, ordinal);
    if (auto it = unclaimed_.find(name); it != unclaimed_.end()) {
      claimed.handles.push_back(it->second);
      claimed.owned.push_back(it->second);
      unclaimed_.erase(it);
    } else if (auto it = shards_.find(name); it != shards_.end()) {
      if (std::shared_ptr<ShardLog> log = it->second.lock()) {
        claimed.handles.push_back(log->handle());
        claimed.live.push_back(std::move(log));
      }
      shards_.erase(it);
    } else {
      continue;
    }
    dropping_.insert(name);
    claimed.names.push_back(std::move(name));
  }
  return claimed;
}

Status Store::DropClaimedLocked(const ClaimedShards& claimed) {
  const Status dropped = DropColumnFamiliesLocked(claimed.handles, claimed.owned);
  for (const std::string& name : claimed.names) {
    dropping_.erase(name);
  }
  return dropped;
}

Status Store::FinishDrop(ClaimedShards claimed, const Status& dropped) {
  // A dropped column family's table files are deleted when its last handle goes: here, unless
  // a reader still holds the ShardLog.
  const bool any = !claimed.handles.empty();
  claimed.live.clear();
  if (dropped.ok() && any) {
    ReleaseWal();
  }
  return dropped;
}

Status Store::DropShards(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals) {
  ClaimedShards claimed;
  Status dropped;
  {
    MutexLock lock(&cf_mu_);
    claimed = ClaimShardsLocked(stream_id, shard_ordinals);
    dropped = DropClaimedLocked(claimed);
  }
  return FinishDrop(std::move(claimed), dropped);
}

void Store::DropShardsInBackground(uint64_t stream_id,
                                   const std::vector<uint32_t>& shard_ordinals) {
  // Claimed now, while the stream's ShardLogs are surely alive: a ShardLog that went first
  // would take its column family's handle with it, undropped.
  ClaimedShards claimed;
  {
    MutexLock lock(&cf_mu_);
    claimed = ClaimShardsLocked(stream_id, shard_ordinals);
  }
  shards_to_drop_ += claimed.handles.size();
  {
    MutexLock lock(&drop_mu_);
    pending_drops_.push_back(std::move(claimed));
  }
  drop_cv_.Signal();
}

void Store::DropLoop() {
  MutexLock lock(&drop_mu_);
  for (;;) {
    while (!stop_drops_ && pending_drops_.empty()) {
      drop_cv_.Wait(&drop_mu_);
    }
    if (stop_drops_) {
      return;
    }
    ClaimedShards drop = std::move(pending_drops_.front());
    pending_drops_.pop_front();
    drop_mu_.Unlock();
    const auto start = std::chrono::steady_clock::now();
    const uint64_t stream_id = drop.stream_id;
    const size_t count = drop.handles.size();
    Status dropped;
    {
      MutexLock cf_lock(&cf_mu_);
      dropped = DropClaimedLocked(drop);
    }
    dropped = FinishDrop(std::move(drop), dropped);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (dropped.ok()) {
      shards_to_drop_ -= count;
      spdlog::info("dropped the {} shard column families of deleted stream id {} in {:.2f} s",
                   count, stream_id, seconds);
    } else {
      // The catalog no longer names them: the next start drops them. Until then they still
      // hold their disk, and riffle_shards_to_drop says so.
      spdlog::error(
          "dropping the {} shard column families of deleted stream id {} failed ({}); "
          "the next start drops them",
          count, stream_id, dropped.message());
    }
    drop_mu_.Lock();
  }
}

Status Store::DropShardsExcept(const std::set<std::string>& live) {
  ClaimedShards leftovers;  // no ShardLog holds them: each is also owned here
  Status dropped;
  {
    MutexLock lock(&cf_mu_);
    for (auto it = unclaimed_.begin(); it != unclaimed_.end();) {
      if (live.count(it->first) != 0) {
        ++it;
        continue;
      }
      leftovers.handles.push_back(it->second);
      leftovers.owned.push_back(it->second);
      it = unclaimed_.erase(it);
    }
    dropped = DropClaimedLocked(leftovers);
  }
  // Their recovered records keep log files that the live shards' records share.
  return FinishDrop(std::move(leftovers), dropped);
}

Status Store::DropColumnFamiliesLocked(const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                                       const std::vector<rocksdb::ColumnFamilyHandle*>& owned) {
  // One call for all of them: RocksDB rewrites and re-reads its OPTIONS file, which lists
  // every column family, once per call, so dropping shards one by one cost shards x all shards.
  const Status dropped = handles.empty() ? Status() : FromRocks(db_->DropColumnFamilies(handles));
  for (rocksdb::ColumnFamilyHandle* handle : owned) {
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  return dropped;
}

void Store::ReleaseWal() {
  std::vector<std::shared_ptr<ShardLog>> in_use;  // keeps their handles valid across the flush
  {
    MutexLock lock(&cf_mu_);
    for (const auto& [name, weak] : shards_) {
      if (std::shared_ptr<ShardLog> log = weak.lock()) {
        in_use.push_back(std::move(log));
      }
    }
  }
  // Column families not claimed by a ShardLog are those no stream names, which the store
  // drops at start: what they recovered from the logs goes with them.
  std::vector<rocksdb::ColumnFamilyHandle*> holding;
  const auto add_if_holding = [&](rocksdb::ColumnFamilyHandle* handle) {
    uint64_t entries = 0;
    if (db_->GetIntProperty(handle, rocksdb::DB::Properties::kNumEntriesActiveMemTable, &entries) &&
        entries > 0) {
      holding.push_back(handle);
    }
  };
  add_if_holding(db_->DefaultColumnFamily());
  add_if_holding(catalog_);
  for (const std::shared_ptr<ShardLog>& log : in_use) {
    add_if_holding(log->handle());
  }
  if (holding.empty()) {
    return;
  }
  rocksdb::FlushOptions flush;
  flush.wait = false;  // RocksDB deletes the log files once the flushes are done
  flush.allow_write_stall = true;
  const rocksdb::Status flushed = db_->Flush(flush, holding);
  if (!flushed.ok()) {
    spdlog::warn("flushing {} column families to release the write-ahead log failed: {}",
                 holding.size(), flushed.ToString());
  }
}

Store::Stats Store::stats() const {
  Stats out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.data_dir, ec)) {
    if (entry.path().extension() == ".log") {
      const uintmax_t size = entry.file_size(ec);
      out.wal_bytes += ec ? 0 : size;  // a log RocksDB deleted meanwhile counts nothing
    }
  }
  const std::filesystem::space_info space = std::filesystem::space(options_.data_dir, ec);
  if (!ec) {
    out.filesystem_available_bytes = space.available;
    out.filesystem_size_bytes = space.capacity;
  }
  uint64_t value = 0;
  if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimatePendingCompactionBytes,
                                    &value)) {
    out.pending_compaction_bytes = value;
  }
  if (db_->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &value)) {
    out.writes_stopped = value != 0;
  }
  if (db_->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &value)) {
    out.delayed_write_rate = value;
  }
  out.damaged_table_files = damaged_table_files_.load();
  out.shards_to_drop = shards_to_drop_.load();
  out.commit_times = pipeline_->commit_times();
  return out;
}

}  // namespace riffle::storage
