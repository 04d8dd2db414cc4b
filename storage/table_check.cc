#include "storage/table_check.h"

#include <filesystem>

#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table.h>

#include "storage/records_column_family.h"

namespace riffle::storage {

TableCheckResult CheckTables(rocksdb::DB& db, const std::atomic<bool>& stop,
                             const std::function<void(const DamagedTable&)>& on_damaged) {
  TableCheckResult result;
  std::vector<rocksdb::LiveFileMetaData> files;
  db.GetLiveFilesMetaData(&files);
  // Block checksums and the block layout are recorded in the file itself; of the column
  // family's options only its key order is needed.
  rocksdb::Options options;
  rocksdb::BlockBasedTableOptions table;
  table.no_block_cache = true;  // each block is read once: caching it would only cost memory
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::Options records_options = options;
  records_options.comparator = RecordsComparator();
  for (const rocksdb::LiveFileMetaData& file : files) {
    if (stop.load(std::memory_order_relaxed)) {
      result.stopped = true;
      break;
    }
    const std::string path = file.directory + "/" + file.relative_filename;
    rocksdb::SstFileReader reader(file.column_family_name == kRecordsColumnFamily ? records_options
                                                                                  : options);
    rocksdb::Status status = reader.Open(path);
    if (status.ok()) {
      status = reader.VerifyChecksum();
    }
    if (status.ok()) {
      ++result.files_checked;
      result.bytes_checked += file.size;
      continue;
    }
    // A file that went away meanwhile was replaced by a compaction, which read it whole (and
    // would have failed on damage). One still there that cannot be read (a checksum
    // mismatch, a table that does not parse, an I/O error from a bad sector) is damaged.
    std::error_code ec;
    if (status.IsCorruption() || std::filesystem::exists(path, ec)) {
      result.damaged.push_back(
          {.file = path, .column_family = file.column_family_name, .message = status.ToString()});
      on_damaged(result.damaged.back());
    }
  }
  return result;
}

}  // namespace riffle::storage
