#include "storage/wal_check.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <vector>

namespace riffle::storage {
namespace {

// RocksDB's log format (db/log_format.h): 32 KiB blocks of records; a record is a header
// (masked CRC-32C fixed32, length fixed16, type byte, and in the recyclable format the log
// number fixed32) and its payload. A block's last bytes, too few for a header, are zeros.
constexpr size_t kBlockSize = 32768;
constexpr size_t kHeaderSize = 7;
constexpr size_t kRecyclableHeaderSize = 11;
constexpr uint8_t kZeroType = 0;
constexpr uint8_t kFirstRecyclableType = 5;
constexpr uint8_t kLastRecyclableType = 8;
constexpr uint8_t kMaxKnownType = 12;
constexpr uint32_t kMaskDelta = 0xa282ead8u;

const std::array<uint32_t, 256>& Crc32cTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) {
        crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
      }
      t[i] = crc;
    }
    return t;
  }();
  return table;
}

uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

uint32_t Fixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
}

// Whether the record at `at` in `block` is intact; its size in `size` when it is.
bool IntactRecord(std::string_view block, size_t at, size_t& size) {
  if (block.size() - at < kHeaderSize) {
    return false;
  }
  const char* header = block.data() + at;
  const auto type = static_cast<uint8_t>(header[6]);
  const size_t length =
      static_cast<uint8_t>(header[4]) | (size_t{static_cast<uint8_t>(header[5])} << 8);
  const bool recyclable = type >= kFirstRecyclableType && type <= kLastRecyclableType;
  const size_t header_size = recyclable ? kRecyclableHeaderSize : kHeaderSize;
  if (type == kZeroType || type > kMaxKnownType || block.size() - at < header_size + length) {
    return false;
  }
  // The checksum covers the type, the log number of a recyclable record, and the payload.
  const uint32_t crc = Crc32c(std::string_view(header + 6, header_size - 6 + length));
  if (crc != Unmask(Fixed32(header))) {
    return false;
  }
  size = header_size + length;
  return true;
}

bool IsZeros(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  const std::array<uint32_t, 256>& table = Crc32cTable();
  crc = ~crc;
  for (char c : data) {
    crc = table[(crc ^ static_cast<uint8_t>(c)) & 0xFFu] ^ (crc >> 8);
  }
  return ~crc;
}

StatusOr<WalScan> ScanWal(const std::filesystem::path& data_dir) {
  std::vector<std::pair<uint64_t, std::filesystem::path>> logs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.ends_with(".log") &&
        name.find_first_not_of("0123456789") == name.size() - 4) {
      logs.emplace_back(std::stoull(name.substr(0, name.size() - 4)), entry.path());
    }
  }
  if (ec) {
    return Status(ErrorCode::kInternalFailure,
                  "cannot list " + data_dir.string() + ": " + ec.message());
  }
  std::sort(logs.begin(), logs.end());
  std::optional<WalDamage> damage;
  std::string block(kBlockSize, '\0');
  for (const auto& [number, path] : logs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Status(ErrorCode::kInternalFailure, "cannot read " + path.string());
    }
    for (uint64_t block_start = 0;; block_start += kBlockSize) {
      in.read(block.data(), kBlockSize);
      const auto got = static_cast<size_t>(in.gcount());
      if (got == 0) {
        break;
      }
      const std::string_view bytes(block.data(), got);
      size_t at = 0;
      while (at < bytes.size()) {
        size_t size = 0;
        if (IntactRecord(bytes, at, size)) {
          if (damage) {
            ++damage->intact_after;
          }
          at += size;
          continue;
        }
        // A block's zero trailer, or the zeros after a log's last record, is no damage.
        if (!damage && !IsZeros(bytes.substr(at))) {
          damage = WalDamage{path.filename().string(), block_start + at, 0};
        }
        // Past damage the framing is lost: look for the next intact record at every offset of
        // the block (a false match needs a CRC-32C to agree by chance).
        size_t next = at + 1;
        while (next < bytes.size() && !IntactRecord(bytes, next, size)) {
          ++next;
        }
        at = next;
      }
      if (got < kBlockSize) {
        break;
      }
    }
  }
  WalScan scan;
  if (damage && damage->intact_after > 0) {
    scan.damage = damage;
  }
  return scan;
}

}  // namespace riffle::storage
