// Keeps writes away from a full disk. RocksDB that meets ENOSPC in its write-ahead log stops
// taking writes until the process restarts, so the committer asks first: below the reserve,
// writes are refused with a clear error and nothing reaches RocksDB; once space is freed they
// go on by themselves. Reads never depend on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "common/status.h"

namespace riffle::storage {

class DiskSpaceGuard {
 public:
  // `min_free_bytes` 0: never refuses. A filesystem smaller than 20 times it keeps a twentieth
  // of its size free instead, but never less than `floor_bytes`: what RocksDB needs at once
  // when it switches memtables (it preallocates the next log file whole, and a write into
  // preallocated space takes nothing more from the filesystem's free space, so the free space
  // alone does not show how close that moment is).
  DiskSpaceGuard(std::filesystem::path data_dir, uint64_t min_free_bytes, uint64_t floor_bytes)
      : data_dir_(std::move(data_dir)),
        min_free_bytes_(min_free_bytes),
        floor_bytes_(floor_bytes) {}

  // OK while the data directory's filesystem has more than the reserve free (looked up at
  // most every 100 ms); else ServiceUnavailable saying the disk is full. One thread only (the
  // committer).
  Status MayWrite();

 private:
  const std::filesystem::path data_dir_;
  const uint64_t min_free_bytes_;
  const uint64_t floor_bytes_;
  std::chrono::steady_clock::time_point checked_{};
  uint64_t reserve_ = 0;
  bool full_ = false;
};

}  // namespace riffle::storage
