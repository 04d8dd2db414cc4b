#include "storage/table_check.h"

#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table.h>

namespace riffle::storage {

TableCheckResult CheckTables(rocksdb::DB& db, const std::atomic<bool>& stop) {
  TableCheckResult result;
  std::vector<rocksdb::LiveFileMetaData> files;
  db.GetLiveFilesMetaData(&files);
  // The table format needs no options of the column family to be read: block checksums and
  // the block layout are recorded in the file itself.
  rocksdb::Options options;
  rocksdb::BlockBasedTableOptions table;
  table.no_block_cache = true;  // each block is read once: caching it would only cost memory
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  for (const rocksdb::LiveFileMetaData& file : files) {
    if (stop.load(std::memory_order_relaxed)) {
      result.stopped = true;
      break;
    }
    const std::string path = file.directory + "/" + file.relative_filename;
    rocksdb::SstFileReader reader(options);
    rocksdb::Status status = reader.Open(path);
    if (status.ok()) {
      status = reader.VerifyChecksum();
    }
    if (status.IsCorruption()) {
      result.damaged.push_back(
          {.file = path, .column_family = file.column_family_name, .message = status.ToString()});
    } else if (status.ok()) {
      ++result.files_checked;
      result.bytes_checked += file.size;
    }
    // Anything else: the file went away under a compaction, which read it whole (and would
    // have failed on damage) to replace it.
  }
  return result;
}

}  // namespace riffle::storage
