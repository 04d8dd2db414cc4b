#include "storage/legacy_layout.h"

#include <chrono>

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "storage/format.h"
#include "storage/records_column_family.h"
#include "storage/store.h"

namespace riffle::storage {
namespace {

// Copied records are written in batches of about this size, unsynced; one sync follows.
constexpr size_t kCopyBatchBytes = 4 * kMiB;

// Every record of the legacy column families, copied into `records` and synced.
StatusOr<uint64_t> CopyRecords(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* records,
                               const std::vector<rocksdb::ColumnFamilyHandle*>& legacy) {
  uint64_t copied = 0;
  rocksdb::WriteBatch batch;
  const rocksdb::WriteOptions unsynced;
  for (rocksdb::ColumnFamilyHandle* handle : legacy) {
    const std::optional<std::pair<uint64_t, uint32_t>> shard =
        ParseLegacyShardColumnFamilyName(handle->GetName());
    rocksdb::ReadOptions read;
    read.fill_cache = false;  // each record is read once
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, handle));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::optional<uint64_t> offset = DecodeOffsetKey(it->key().ToStringView());
      if (!offset) {
        return Status(ErrorCode::kInternalFailure,
                      fmt::format("the column family {} holds a key that is not a record offset",
                                  handle->GetName()));
      }
      batch.Put(records, EncodeRecordKey(shard->first, shard->second, *offset), it->value())
          .PermitUncheckedError();
      ++copied;
      if (batch.GetDataSize() >= kCopyBatchBytes) {
        RIFFLE_RETURN_IF_ERROR(FromRocks(db.Write(unsynced, &batch)));
        batch.Clear();
      }
    }
    if (Status read_status = FromRocks(it->status()); !read_status.ok()) {
      return Status(read_status.code(), "reading the column family " + handle->GetName() + ": " +
                                            read_status.message());
    }
  }
  if (batch.Count() > 0) {
    RIFFLE_RETURN_IF_ERROR(FromRocks(db.Write(unsynced, &batch)));
  }
  RIFFLE_RETURN_IF_ERROR(FromRocks(db.SyncWAL()));
  return copied;
}

// The copy needs room for all the records: the old column families go only after it.
Status CheckRoomForCopy(rocksdb::DB& db, const std::filesystem::path& data_dir,
                        const std::vector<rocksdb::ColumnFamilyHandle*>& legacy) {
  uint64_t needed = kCopyBatchBytes;
  for (rocksdb::ColumnFamilyHandle* handle : legacy) {
    uint64_t bytes = 0;
    if (db.GetIntProperty(handle, rocksdb::DB::Properties::kTotalSstFilesSize, &bytes)) {
      needed += bytes;
    }
  }
  needed += needed / 4;  // write-ahead log files and compactions meanwhile
  std::error_code ec;
  const std::filesystem::space_info space = std::filesystem::space(data_dir, ec);
  if (!ec && space.available < needed) {
    return Status(ErrorCode::kServiceUnavailable,
                  fmt::format("the upgrade copies the records before it drops the old column "
                              "families and needs about {} MiB free in {}; {} MiB are",
                              needed / kMiB, data_dir.string(), space.available / kMiB));
  }
  return Status();
}

}  // namespace

rocksdb::ColumnFamilyOptions LegacyShardColumnFamilyOptions(
    const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  // Records recovered from the write-ahead log into thousands of these at open: RocksDB's
  // default arena block (1 MiB) would charge that much per column family to the budget.
  options.arena_block_size = 4 * 1024;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

StatusOr<rocksdb::ColumnFamilyHandle*> UpgradeLegacyShards(
    rocksdb::DB& db, const std::filesystem::path& data_dir,
    const rocksdb::ColumnFamilyOptions& records_options, rocksdb::ColumnFamilyHandle* records,
    std::vector<rocksdb::ColumnFamilyHandle*> legacy) {
  const auto start = std::chrono::steady_clock::now();
  spdlog::info("upgrading the data directory: copying {} shard column families into `records`",
               legacy.size());
  // `records` found at open is an upgrade's cut short: old column families it copied may be
  // dropped already, so from then on it may hold the only copy of their records.
  const bool created_here = records == nullptr;
  Status upgraded = CheckRoomForCopy(db, data_dir, legacy);
  if (upgraded.ok() && created_here) {
    upgraded = FromRocks(db.CreateColumnFamily(records_options, kRecordsColumnFamily, &records));
  }
  StatusOr<uint64_t> copied = upgraded.ok() ? CopyRecords(db, records, legacy) : upgraded;
  if (copied.ok()) {
    // Only now are the copies durable: the old column families may go.
    upgraded = FromRocks(db.DropColumnFamilies(legacy));
  } else {
    upgraded = copied.status();
  }
  for (rocksdb::ColumnFamilyHandle* handle : legacy) {
    db.DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  if (!upgraded.ok()) {
    // Back to the old layout alone only while `records` holds nothing but copies: created by
    // this call, and no old column family dropped. The riffled that wrote the old layout then
    // opens it, where `records` and its comparator would stop it.
    const bool only_copies = created_here && !copied.ok();
    if (records != nullptr) {
      if (only_copies) {
        db.DropColumnFamily(records).PermitUncheckedError();
      }
      db.DestroyColumnFamilyHandle(records).PermitUncheckedError();
    }
    return Status(upgraded.code(),
                  std::string("upgrading the data directory to the `records` layout failed (") +
                      upgraded.message() +
                      (only_copies || records == nullptr
                           ? "); it is left as it was"
                           : "); the records copied so far are kept, and the next start goes "
                             "on with the upgrade"));
  }
  spdlog::info(
      "upgraded the data directory: {} records of {} shard column families copied into "
      "`records` in {:.1f} s",
      *copied, legacy.size(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return records;
}

}  // namespace riffle::storage
