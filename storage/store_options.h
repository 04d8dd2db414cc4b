// Options of the storage layer, filled from flags and the config file in server/riffled/ only.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "common/status.h"

namespace riffle::storage {

enum class FsyncMode : uint8_t {
  kAlways,    // acknowledge only after the WAL is fsynced; concurrent writers share one fsync
  kInterval,  // fsync the WAL every fsync_interval; a power cut loses at most that window
  kNever,     // leave it to the OS; survives a process crash, not a power cut
};

inline constexpr uint64_t kMiB = 1024 * 1024;

struct StoreOptions {
  std::filesystem::path data_dir = "riffle-data";  // created if missing
  FsyncMode fsync = FsyncMode::kAlways;
  std::chrono::milliseconds fsync_interval{10};  // used by kInterval only; 1 ms .. 10 s
  // The memtable budget of all column families (a memtable of the records is half of it).
  uint64_t write_buffer_budget_bytes = 32 * kMiB;
  // One block cache shared by all column families.
  uint64_t block_cache_bytes = 32 * kMiB;
  // Writes are refused while the data directory's disk has less free (0: never): RocksDB that
  // runs out of space mid-write takes no more writes until a restart.
  uint64_t min_free_disk_bytes = 256 * kMiB;
  // Open even when a write-ahead log is damaged before its end (storage/wal_check.h), dropping
  // the records after the damage as RocksDB's replay does. Off: such a store does not open.
  bool accept_wal_damage = false;
  // Table files kept open at once (RocksDB's table cache); others are opened when read. Each
  // open one holds a file descriptor and its index in memory, and RocksDB's default (all of
  // them, opened at start) ran a node with thousands of shards out of descriptors.
  int max_open_table_files = 5000;
  // Read every table file once after opening, in the background, and report damaged ones
  // (storage/table_check.h).
  bool check_tables_at_start = true;

  Status Validate() const;
};

}  // namespace riffle::storage
