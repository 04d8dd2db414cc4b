// The `records` column family, which holds every shard's records (keys: storage/format.h,
// EncodeRecordKey), and the options it is opened with.
#pragma once

#include <memory>

#include "storage/store_options.h"

namespace rocksdb {
class Cache;
class Comparator;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace riffle::storage {

inline constexpr char kRecordsColumnFamily[] = "records";

// Byte order, as RocksDB's default comparator, under a name of its own. RocksDB refuses to
// open a column family with a comparator of another name, so a riffled from before this layout
// (which would take `records` for a stray shard column family and drop it at start) cannot
// open a data directory that has it: it stops with "comparator ... does not match".
const rocksdb::Comparator* RecordsComparator();

// Disk that switching the records' memtable takes at once: RocksDB preallocates the next log
// file (1.1 times the memtable size), and the full memtable is flushed to a table file.
uint64_t MemtableSwitchBytes(const StoreOptions& options);

rocksdb::ColumnFamilyOptions RecordsColumnFamilyOptions(
    const StoreOptions& options, const std::shared_ptr<rocksdb::Cache>& cache);

}  // namespace riffle::storage
