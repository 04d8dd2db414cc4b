// The layout before the `records` column family kept each shard in a column family of its own
// ("shard-<stream id>-<ordinal>", keys the offset alone). RocksDB's cost per column family
// (at open, per flush and in memory) grew with the shard count, so a data directory in that
// layout is upgraded when it opens: docs/storage-format.md, "Upgrading".
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace riffle::storage {

// What a legacy shard column family is opened with, only to be read.
rocksdb::ColumnFamilyOptions LegacyShardColumnFamilyOptions(
    const std::shared_ptr<rocksdb::Cache>& cache);

// Copies every record of the `legacy` column families into `records` at its new key, makes
// that durable, then drops the legacy column families (one RocksDB call) and destroys their
// handles; returns the handle of `records`. `records` is null unless an upgrade cut short
// created it; otherwise it is created here (with `records_options`), after a check that the
// filesystem has room for a copy of the records. A crash at any point leaves every record in
// at least one of the two places; the next open copies again (the same keys and values) and
// finishes. A failure before any old column family was dropped drops `records` again if this
// call created it, leaving the data directory in the old layout, which the riffled that wrote
// it still opens; a `records` found at open (an upgrade cut short) is kept, as it may hold the
// only copy of old column families dropped already. Logs what it did.
StatusOr<rocksdb::ColumnFamilyHandle*> UpgradeLegacyShards(
    rocksdb::DB& db, const std::filesystem::path& data_dir,
    const rocksdb::ColumnFamilyOptions& records_options, rocksdb::ColumnFamilyHandle* records,
    std::vector<rocksdb::ColumnFamilyHandle*> legacy);

}  // namespace riffle::storage
