#include "storage/records_column_family.h"

#include <rocksdb/cache.h>
#include <rocksdb/comparator.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

namespace riffle::storage {
namespace {

class RecordsKeyComparator final : public rocksdb::Comparator {
 public:
  const char* Name() const override { return "riffle.RecordsKeyComparator.v1"; }
  int Compare(const rocksdb::Slice& a, const rocksdb::Slice& b) const override {
    return a.compare(b);
  }
  bool Equal(const rocksdb::Slice& a, const rocksdb::Slice& b) const override { return a == b; }
  void FindShortestSeparator(std::string* start, const rocksdb::Slice& limit) const override {
    rocksdb::BytewiseComparator()->FindShortestSeparator(start, limit);
  }
  void FindShortSuccessor(std::string* key) const override {
    rocksdb::BytewiseComparator()->FindShortSuccessor(key);
  }
};

uint64_t MemoryTableBytes(const StoreOptions& options) {
  // Half the shared budget per memtable: one fills while the other is flushed.
  return options.write_buffer_budget_bytes / 2;
}

}  // namespace

const rocksdb::Comparator* RecordsComparator() {
  static const RecordsKeyComparator* const comparator = new RecordsKeyComparator();
  return comparator;
}

uint64_t MemtableSwitchBytes(const StoreOptions& options) {
  return MemoryTableBytes(options) * 11 / 10 + MemoryTableBytes(options);
}

uint64_t ApproximateTableBytes(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* records,
                               const std::string& begin, const std::string& end) {
  const rocksdb::Range range(begin, end);
  uint64_t bytes = 0;
  rocksdb::SizeApproximationOptions options;
  options.include_files = true;
  return db.GetApproximateSizes(options, records, &range, 1, &bytes).ok() ? bytes : 0;
}

rocksdb::ColumnFamilyOptions RecordsColumnFamilyOptions(
    const StoreOptions& options, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions out;
  out.comparator = RecordsComparator();
  out.write_buffer_size = MemoryTableBytes(options);
  out.max_write_buffer_number = 3;
  out.level_compaction_dynamic_level_bytes = true;
  out.compression = rocksdb::kLZ4Compression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.block_size = 16 * 1024;
  out.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return out;
}

}  // namespace riffle::storage
