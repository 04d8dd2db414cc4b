#include "storage/store.h"

#include <chrono>
#include <filesystem>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <spdlog/spdlog.h>

#include "storage/legacy_layout.h"
#include "storage/records_column_family.h"
#include "storage/table_check.h"
#include "storage/wal_check.h"

namespace riffle::storage {
namespace {

constexpr char kCatalogColumnFamily[] = "catalog";

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
  // A log file is deleted once every column family with records in it has flushed them: past
  // this total RocksDB flushes the rarely written catalog, which would otherwise keep them.
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
  // Without reading every table file's statistics at open, a restart costs what the catalog
  // and the WAL cost.
  db_options.skip_stats_update_on_db_open = true;
  db_options.skip_checking_sst_file_sizes_on_db_open = true;

  const std::string path = options.data_dir.string();
  std::vector<std::string> names;
  rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, path, &names);
  if (!listed.ok()) {
    names = {rocksdb::kDefaultColumnFamilyName};  // a new database
  }
  // A data directory of the layout before `records` gets it from the upgrade, which creates it
  // only once the copy can be done.
  const bool legacy_layout = std::any_of(names.begin(), names.end(), [](const std::string& name) {
    return ParseLegacyShardColumnFamilyName(name).has_value();
  });
  for (const char* name : {kCatalogColumnFamily, kRecordsColumnFamily}) {
    if (std::find(names.begin(), names.end(), name) == names.end() &&
        !(legacy_layout && name == std::string_view(kRecordsColumnFamily))) {
      names.emplace_back(name);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    if (name == kRecordsColumnFamily) {
      descriptors.emplace_back(name, RecordsColumnFamilyOptions(options, cache));
    } else if (ParseLegacyShardColumnFamilyName(name)) {
      descriptors.emplace_back(name, LegacyShardColumnFamilyOptions(cache));
    } else {
      // The catalog, and the default column family RocksDB insists on: rarely written, so
      // a small memtable (RocksDB's default, 64 MiB, grows by 8 MiB arena blocks charged to
      // the shared budget).
      rocksdb::ColumnFamilyOptions small;
      small.write_buffer_size = 4 * kMiB;
      descriptors.emplace_back(name, small);
    }
  }
  RIFFLE_ASSIGN_OR_RETURN(const WalScan wal, ScanWal(options.data_dir));
  const std::optional<WalDamage>& damage = wal.damage;
  // What recovery replays is flushed at open, so the replayed logs are retired then: kept in
  // memtables, they left a torn log beside newer ones after a crash (WalScan).
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
  std::vector<rocksdb::ColumnFamilyHandle*> legacy;
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (handle->GetName() == kCatalogColumnFamily) {
      store->catalog_ = handle;
    } else if (handle->GetName() == kRecordsColumnFamily) {
      store->records_ = handle;
    } else if (ParseLegacyShardColumnFamilyName(handle->GetName())) {
      legacy.push_back(handle);
    } else {
      raw->DestroyColumnFamilyHandle(handle).PermitUncheckedError();  // the unused default
    }
  }
  if (!legacy.empty()) {
    RIFFLE_ASSIGN_OR_RETURN(
        store->records_,
        UpgradeLegacyShards(*raw, options.data_dir, RecordsColumnFamilyOptions(options, cache),
                            std::exchange(store->records_, nullptr), std::move(legacy)));
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
          DiskSpaceGuard(options.data_dir, options.min_free_disk_bytes,
                         MemtableSwitchBytes(options)))) {}

Store::~Store() {
  stop_table_check_ = true;
  if (table_check_thread_.joinable()) {
    table_check_thread_.join();
  }
  {
    MutexLock lock(&drop_mu_);
    stop_drops_ = true;  // the queued drops wait for the next start
  }
  // A compaction under way (it can rewrite a whole stream's range) ends now: a drop's range
  // deletion is durable before its compaction starts, and SIGTERM must not wait for it.
  db_->DisableManualCompaction();
  drop_cv_.SignalAll();
  if (drop_thread_.joinable()) {
    drop_thread_.join();
  }
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
  for (rocksdb::ColumnFamilyHandle* handle : {catalog_, records_}) {
    if (handle != nullptr) {  // `records` is null when an upgrade failed
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
  }
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
      log->AddDeleteFromToBatch(batch, *copied.truncate_from);
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
  MutexLock lock(&shards_mu_);
  std::vector<std::shared_ptr<ShardLog>> logs(shard_ordinals.size());
  std::unique_ptr<rocksdb::Iterator> it;
  for (size_t i = 0; i < shard_ordinals.size(); ++i) {
    const ShardRef shard{stream_id, shard_ordinals[i]};
    if (dropping_.count(shard) != 0) {
      // A deleted stream's shard (a late copy from a peer, say): its records are about to go.
      return Status(ErrorCode::kServiceUnavailable,
                    fmt::format("shard {} of stream id {} belongs to a deleted stream and is "
                                "being dropped",
                                shard.second, shard.first));
    }
    if (auto open = shards_.find(shard); open != shards_.end()) {
      if ((logs[i] = open->second.lock())) {
        continue;
      }
    }
    // The shard's positions come from its records: the next offset follows the last one, the
    // trim offset is the first one still present.
    if (it == nullptr) {
      it.reset(db_->NewIterator(rocksdb::ReadOptions(), records_));
    }
    const std::string prefix = ShardKeyPrefix(shard.first, shard.second);
    uint64_t next_offset = 0;
    uint64_t trim_offset = 0;
    int64_t last_arrival_ms = 0;
    it->SeekForPrev(EncodeRecordKey(shard.first, shard.second, ~uint64_t{0}));
    if (it->Valid() && it->key().starts_with(prefix)) {
      next_offset = DecodeRecordKey(it->key().ToStringView()).value_or(RecordKey()).offset + 1;
      last_arrival_ms = DecodeRecordArrival(it->value().ToStringView()).value_or(0);
      it->Seek(prefix);
      trim_offset = it->Valid() && it->key().starts_with(prefix)
                        ? DecodeRecordKey(it->key().ToStringView()).value_or(RecordKey()).offset
                        : 0;
    }
    RIFFLE_RETURN_IF_ERROR(FromRocks(it->status()));  // a damaged table file, say
    logs[i] = std::make_shared<ShardLog>(
        *db_, records_, shard.first, shard.second, next_offset, trim_offset, last_arrival_ms,
        [this](std::string begin, std::string end) {
          QueueDrop(ShardDrop{.stream_id = 0,
                              .ordinals = {},
                              .deleted = true,
                              .ranges = {{std::move(begin), std::move(end)}}});
        });
    shards_[shard] = logs[i];
  }
  return logs;
}

void Store::ForgetShardLocked(const ShardRef& shard) {
  if (auto open = shards_.find(shard); open != shards_.end()) {
    if (std::shared_ptr<ShardLog> log = open->second.lock()) {
      log->MarkDropped();  // appends still in flight write nothing
    }
    shards_.erase(open);
  }
}

Status Store::DeleteShardsLocked(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals) {
  rocksdb::WriteBatch batch;
  for (uint32_t ordinal : shard_ordinals) {
    ForgetShardLocked({stream_id, ordinal});
    batch
        .DeleteRange(records_, ShardKeyPrefix(stream_id, ordinal),
                     ShardKeyLimit(stream_id, ordinal))
        .PermitUncheckedError();
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  return FromRocks(db_->Write(write_options, &batch));
}

Status Store::DropShards(uint64_t stream_id, const std::vector<uint32_t>& shard_ordinals) {
  if (shard_ordinals.empty()) {
    return Status();
  }
  {
    MutexLock lock(&shards_mu_);
    RIFFLE_RETURN_IF_ERROR(DeleteShardsLocked(stream_id, shard_ordinals));
  }
  QueueDrop(DropOf(stream_id, shard_ordinals, /*deleted=*/true));
  return Status();
}

void Store::DropShardsInBackground(uint64_t stream_id,
                                   const std::vector<uint32_t>& shard_ordinals) {
  if (shard_ordinals.empty()) {
    return;
  }
  {
    MutexLock lock(&shards_mu_);
    for (uint32_t ordinal : shard_ordinals) {
      ForgetShardLocked({stream_id, ordinal});
      dropping_.insert({stream_id, ordinal});
    }
  }
  QueueDrop(DropOf(stream_id, shard_ordinals, /*deleted=*/false));
}

Store::ShardDrop Store::DropOf(uint64_t stream_id, std::vector<uint32_t> shard_ordinals,
                               bool deleted) {
  std::sort(shard_ordinals.begin(), shard_ordinals.end());
  ShardDrop drop{.stream_id = stream_id,
                 .ordinals = std::move(shard_ordinals),
                 .deleted = deleted,
                 .ranges = {}};
  for (size_t first = 0; first < drop.ordinals.size();) {
    size_t last = first;
    while (last + 1 < drop.ordinals.size() && drop.ordinals[last + 1] == drop.ordinals[last] + 1) {
      ++last;
    }
    drop.ranges.emplace_back(ShardKeyPrefix(stream_id, drop.ordinals[first]),
                             ShardKeyLimit(stream_id, drop.ordinals[last]));
    first = last + 1;
  }
  return drop;
}

void Store::QueueDrop(ShardDrop drop) {
  shards_to_drop_ += drop.ordinals.size();
  {
    MutexLock lock(&drop_mu_);
    pending_drops_.push_back(std::move(drop));
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
    ShardDrop drop = std::move(pending_drops_.front());
    pending_drops_.pop_front();
    drop_mu_.Unlock();
    const auto start = std::chrono::steady_clock::now();
    Status deleted;
    if (!drop.deleted) {
      MutexLock shards_lock(&shards_mu_);
      deleted = DeleteShardsLocked(drop.stream_id, drop.ordinals);
      if (deleted.ok()) {
        for (uint32_t ordinal : drop.ordinals) {
          dropping_.erase({drop.stream_id, ordinal});
        }
      }
    }
    // A failed range deletion keeps the shards closed and counted: the next start drops them.
    const Status reclaimed = deleted.ok() ? ReclaimDisk(drop) : Status();
    if (deleted.ok()) {
      shards_to_drop_ -= drop.ordinals.size();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string what = drop.ordinals.empty()
                                 ? "the records trimmed by retention"
                                 : fmt::format("the records of {} shards of stream id {}",
                                               drop.ordinals.size(), drop.stream_id);
    if (!deleted.ok()) {
      spdlog::error("deleting {} failed ({}); the next start deletes them", what,
                    deleted.message());
    } else if (!reclaimed.ok()) {
      spdlog::warn(
          "compacting away {} failed ({}); their disk comes back with the compactions "
          "that writes cause",
          what, reclaimed.message());
    } else if (!drop.ordinals.empty()) {
      spdlog::info("dropped {} in {:.2f} s", what, seconds);
    }
    drop_mu_.Lock();
  }
}

Status Store::ReclaimDisk(const ShardDrop& drop) {
  rocksdb::CompactRangeOptions compact;
  compact.exclusive_manual_compaction = false;  // writes' own compactions go on meanwhile
  for (const auto& [begin_key, end_key] : drop.ranges) {
    const rocksdb::Slice begin(begin_key);
    const rocksdb::Slice end(end_key);
    RIFFLE_RETURN_IF_ERROR(FromRocks(db_->CompactRange(compact, records_, &begin, &end)));
  }
  // The compaction flushed the records' memtable; the write-ahead log files that held the
  // dropped records go once the catalog's memtable is flushed too.
  uint64_t entries = 0;
  if (db_->GetIntProperty(catalog_, rocksdb::DB::Properties::kNumEntriesActiveMemTable, &entries) &&
      entries > 0) {
    rocksdb::FlushOptions flush;
    flush.wait = false;
    flush.allow_write_stall = true;
    RIFFLE_RETURN_IF_ERROR(FromRocks(db_->Flush(flush, catalog_)));
  }
  return Status();
}

Status Store::DropShardsExcept(const std::set<ShardRef>& live) {
  std::map<uint64_t, std::vector<uint32_t>> stale;  // stream id -> ordinals
  {
    rocksdb::ReadOptions read;
    read.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, records_));
    // One seek per shard with records: from each shard's first key to the next shard's.
    for (it->SeekToFirst(); it->Valid();) {
      const std::optional<RecordKey> key = DecodeRecordKey(it->key().ToStringView());
      if (!key) {
        return Status(ErrorCode::kInternalFailure, "the records column family holds a key of " +
                                                       std::to_string(it->key().size()) +
                                                       " bytes, not a record key");
      }
      if (live.count({key->stream_id, key->shard_ordinal}) == 0) {
        stale[key->stream_id].push_back(key->shard_ordinal);
      }
      if (key->stream_id == ~uint64_t{0} && key->shard_ordinal == ~uint32_t{0}) {
        break;  // the last shard there can be: nothing follows it
      }
      it->Seek(ShardKeyLimit(key->stream_id, key->shard_ordinal));
    }
    RIFFLE_RETURN_IF_ERROR(FromRocks(it->status()));
  }
  for (auto& [stream_id, ordinals] : stale) {
    spdlog::info("dropping the records of {} shards of stream id {}, which no stream names",
                 ordinals.size(), stream_id);
    RIFFLE_RETURN_IF_ERROR(DropShards(stream_id, ordinals));
  }
  return Status();
}

uint64_t Store::StreamDiskBytes(uint64_t stream_id) const {
  return ApproximateTableBytes(*db_, records_, ShardKeyPrefix(stream_id, 0),
                               ShardKeyPrefix(stream_id + 1, 0));
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
