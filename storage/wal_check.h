// A check of RocksDB's write-ahead logs before the database opens. RocksDB replays a damaged
// log up to the damage and drops the rest without an error (point-in-time recovery): right for
// the torn last write of a crash, which was never acknowledged, but a damaged byte in the middle
// of a log would silently take acknowledged records with it. So riffled reads the logs first:
// damage followed by intact records is not a torn tail, and the store refuses to open, naming the
// file and the offset (docs/storage-format.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace riffle::storage {

// The first damaged record of the logs in `data_dir` that intact records follow; none when
// every log is intact or damaged only at its end.
struct WalDamage {
  std::string file;           // e.g. "000004.log"
  uint64_t offset = 0;        // of the damaged record's header
  uint64_t intact_after = 0;  // records that follow the damage intact (what replay would drop)
};

struct WalScan {
  // Damage that intact records follow: the store refuses to open.
  std::optional<WalDamage> damage;
};

// Scans the live logs (<number>.log, in number order). NotFound-free: a directory without logs
// is fine. I/O errors are InternalFailure.
StatusOr<WalScan> ScanWal(const std::filesystem::path& data_dir);

// CRC-32C (Castagnoli) of `data`, continuing `crc` (0 to start); exposed for tests.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace riffle::storage
