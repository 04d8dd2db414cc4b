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
#include "storage/store.h"

namespace riffle::storage {
namespace {

// Copied records are written in batches of about this size, unsynced; one sync follows.
constexpr size_t kCopyBatchBytes = 4 * kMiB;

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

Status UpgradeLegacyShards(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* records,
                           std::vector<rocksdb::ColumnFamilyHandle*> legacy) {
  const auto start = std::chrono::steady_clock::now();
  spdlog::info("upgrading the data directory: copying {} shard column families into `records`",
               legacy.size());
  const auto destroy_handles = [&db, &legacy] {
    for (rocksdb::ColumnFamilyHandle* handle : legacy) {
      db.DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
  };
  uint64_t copied = 0;
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions unsynced;
  for (rocksdb::ColumnFamilyHandle* handle : legacy) {
    const std::optional<std::pair<uint64_t, uint32_t>> shard =
        ParseLegacyShardColumnFamilyName(handle->GetName());
    rocksdb::ReadOptions read;
    read.fill_cache = false;  // each record is read once
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, handle));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::optional<uint64_t> offset = DecodeOffsetKey(it->key().ToStringView());
      if (!offset) {
        destroy_handles();
        return Status(ErrorCode::kInternalFailure,
                      fmt::format("upgrading the data directory: the column family {} holds "
                                  "a key that is not a record offset; nothing was changed",
                                  handle->GetName()));
      }
      batch.Put(records, EncodeRecordKey(shard->first, shard->second, *offset), it->value())
          .PermitUncheckedError();
      ++copied;
      if (batch.GetDataSize() >= kCopyBatchBytes) {
        if (Status written = FromRocks(db.Write(unsynced, &batch)); !written.ok()) {
          destroy_handles();
          return written;
        }
        batch.Clear();
      }
    }
    if (Status read_status = FromRocks(it->status()); !read_status.ok()) {
      destroy_handles();
      return read_status;
    }
  }
  Status written = batch.Count() > 0 ? FromRocks(db.Write(unsynced, &batch)) : Status();
  if (written.ok()) {
    written = FromRocks(db.SyncWAL());
  }
  if (written.ok()) {
    // Only now are the copies durable: the old column families may go.
    written = FromRocks(db.DropColumnFamilies(legacy));
  }
  destroy_handles();
  RIFFLE_RETURN_IF_ERROR(written);
  spdlog::info(
      "upgraded the data directory: {} records of {} shard column families copied into "
      "`records` in {:.1f} s",
      copied, legacy.size(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return Status();
}

}  // namespace riffle::storage
