// The `records` column family, which holds every shard's records (keys: storage/format.h,
// EncodeRecordKey), and the options it is opened with.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/store_options.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class Comparator;
class DB;
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

// Bytes of table files the keys in [begin, end) of `records` take, estimated from the files'
// indexes (records not yet flushed are in the write-ahead log only); 0 if RocksDB cannot say.
uint64_t ApproximateTableBytes(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* records,
                               const std::string& begin, const std::string& end);

rocksdb::ColumnFamilyOptions RecordsColumnFamilyOptions(
    const StoreOptions& options, const std::shared_ptr<rocksdb::Cache>& cache);

}  // namespace riffle::storage
