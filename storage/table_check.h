// A check of every table file's block checksums, run once in the background after the store
// opens. RocksDB checks a block's checksum whenever a read loads it, so a damaged table file is
// never served as records; but the read that meets the damage may come months later, long after
// the backup that could have replaced the file is gone. Reading every table once at start
// reports damage where an operator looks at start: the log, naming the file, and the metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rocksdb {
class DB;
}

namespace riffle::storage {

struct DamagedTable {
  std::string file;           // the table file's path
  std::string column_family;  // e.g. "records"
  std::string message;        // RocksDB's: which block, which checksum
};

struct TableCheckResult {
  uint64_t files_checked = 0;
  uint64_t bytes_checked = 0;
  std::vector<DamagedTable> damaged;
  bool stopped = false;  // `stop` was set before every file was read
};

// Reads every block of every live table file of `db` and checks its checksum, one file at a
// time, looking at `stop` between files, and calls `on_damaged` for each damaged file as it is
// found (a checksum mismatch, a table that does not parse, a read error). A file compaction
// deleted meanwhile is skipped.
TableCheckResult CheckTables(rocksdb::DB& db, const std::atomic<bool>& stop,
                             const std::function<void(const DamagedTable&)>& on_damaged);

}  // namespace riffle::storage
