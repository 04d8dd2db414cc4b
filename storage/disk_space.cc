#include "storage/disk_space.h"

#include <sys/statvfs.h>

#include <algorithm>

namespace riffle::storage {

Status DiskSpaceGuard::MayWrite() {
  if (min_free_bytes_ == 0) {
    return Status();
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ >= std::chrono::milliseconds(100)) {
    checked_ = now;
    struct statvfs fs {};
    // A failed statvfs (the directory went away) leaves the judgement as it was: the write
    // itself will say what is wrong.
    if (::statvfs(data_dir_.c_str(), &fs) == 0) {
      // A small filesystem keeps a twentieth of its size instead, so it stays usable.
      const uint64_t size = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
      reserve_ = std::max(std::min(min_free_bytes_, size / 20), floor_bytes_);
      full_ = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < reserve_;
    }
  }
  if (!full_) {
    return Status();
  }
  return Status(ErrorCode::kServiceUnavailable,
                "The disk of the data directory is full (less than " +
                    std::to_string(reserve_ / (1024 * 1024)) +
                    " MiB free): writes are refused until space is freed; reads go on.");
}

}  // namespace riffle::storage
