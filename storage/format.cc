#include "storage/format.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace riffle::storage {
namespace {

// Version 2 added resource policies and the warm throughput target; version 1 still decodes.
// Version 3 adds the replication factor; a stream without one is still written as version 2,
// which riffled before it reads.
constexpr uint8_t kStreamMetaVersion = 3;
constexpr uint8_t kAccountMetaVersion = 1;
constexpr uint8_t kGroupMetaVersion = 1;

void PutFixed64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void PutFixed32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

void PutHashKey(std::string& out, HashKey key) {
  PutFixed64(out, static_cast<uint64_t>(key >> 64));
  PutFixed64(out, static_cast<uint64_t>(key));
}

// Reads what the Put* functions wrote; every read checks bounds, so a corrupt value decodes to
// an error instead of reading past the buffer.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }
  std::string_view rest() const { return in_; }

  uint64_t Fixed64() {
    if (in_.size() < 8) {
      return Fail();
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v = (v << 8) | static_cast<uint8_t>(in_[static_cast<size_t>(i)]);
    }
    in_.remove_prefix(8);
    return v;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) {
        return Fail();
      }
      auto byte = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        return v;
      }
    }
    return Fail();
  }
  std::string_view String() {
    uint64_t n = Varint();
    if (!ok_ || n > in_.size()) {
      Fail();
      return {};
    }
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  HashKey ReadHashKey() {
    HashKey hi = Fixed64();
    HashKey lo = Fixed64();
    return (hi << 64) | lo;
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

std::optional<uint64_t> ParseDigits(std::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

std::optional<HashKey> ParseHashKey(std::string_view text) {
  if (text.empty() || text.size() > 39) {
    return std::nullopt;
  }
  HashKey v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    auto digit = static_cast<HashKey>(c - '0');
    if (v > (kMaxHashKey - digit) / 10) {
      return std::nullopt;  // above 2^128 - 1
    }
    v = v * 10 + digit;
  }
  return v;
}

std::string FormatHashKey(HashKey key) {
  if (key == 0) {
    return "0";
  }
  std::string out;
  while (key > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(key % 10)));
    key /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::pair<HashKey, HashKey>> EvenHashKeyRanges(uint32_t count) {
  std::vector<std::pair<HashKey, HashKey>> ranges;
  if (count == 0) {
    return ranges;
  }
  // floor(2^128 / count) without a 129-bit type: 2^128 = kMaxHashKey + 1.
  HashKey step = kMaxHashKey / count;
  if (kMaxHashKey % count == count - 1) {
    step += 1;
  }
  ranges.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    HashKey start = step * i;
    HashKey end = (i + 1 == count) ? kMaxHashKey : step * (i + 1) - 1;
    ranges.emplace_back(start, end);
  }
  return ranges;
}

std::string FormatSequenceNumber(uint32_t shard_ordinal, uint64_t position) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "1%020u%020llu", shard_ordinal,
                static_cast<unsigned long long>(position));
  return buf;
}

std::optional<SequencePosition> ParseSequenceNumber(std::string_view text) {
  if (text.size() != 41 || text[0] != '1') {
    return std::nullopt;
  }
  std::optional<uint64_t> ordinal = ParseDigits(text.substr(1, 20), 20);
  std::optional<uint64_t> position = ParseDigits(text.substr(21, 20), 20);
  if (!ordinal || !position || *ordinal > UINT32_MAX) {
    return std::nullopt;
  }
  return SequencePosition{static_cast<uint32_t>(*ordinal), *position};
}

std::string FormatShardId(uint32_t shard_ordinal) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "shardId-%012u", shard_ordinal);
  return buf;
}

std::optional<uint32_t> ParseShardId(std::string_view text) {
  std::string_view digits = text;
  if (size_t dash = text.find('-'); dash != std::string_view::npos) {
    std::string_view second = text.substr(dash + 1);
    second = second.substr(0, second.find('-'));
    if (!second.empty()) {
      digits = second;
    }
  }
  while (digits.size() > 1 && digits.front() == '0') {
    digits.remove_prefix(1);
  }
  std::optional<uint64_t> v = ParseDigits(digits, 10);
  if (!v || *v > INT32_MAX) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(*v);
}

std::string ShardKeyPrefix(uint64_t stream_id, uint32_t shard_ordinal) {
  std::string out;
  out.reserve(kRecordKeySize);
  PutFixed64(out, stream_id);
  PutFixed32(out, shard_ordinal);
  return out;
}

std::string ShardKeyLimit(uint64_t stream_id, uint32_t shard_ordinal) {
  return shard_ordinal == ~uint32_t{0} ? ShardKeyPrefix(stream_id + 1, 0)
                                       : ShardKeyPrefix(stream_id, shard_ordinal + 1);
}

std::string EncodeRecordKey(uint64_t stream_id, uint32_t shard_ordinal, uint64_t offset) {
  std::string out = ShardKeyPrefix(stream_id, shard_ordinal);
  PutFixed64(out, offset);
  return out;
}

std::optional<RecordKey> DecodeRecordKey(std::string_view key) {
  if (key.size() != kRecordKeySize) {
    return std::nullopt;
  }
  const auto big_endian = [key](size_t at, size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) {
      v = (v << 8) | static_cast<uint8_t>(key[at + i]);
    }
    return v;
  };
  return RecordKey{.stream_id = big_endian(0, 8),
                   .shard_ordinal = static_cast<uint32_t>(big_endian(8, 4)),
                   .offset = big_endian(kShardKeyPrefixSize, 8)};
}

std::optional<uint64_t> DecodeOffsetKey(std::string_view key) {
  if (key.size() != 8) {
    return std::nullopt;
  }
  Reader r(key);
  return r.Fixed64();
}

std::string EncodeRecord(int64_t arrival_ms, std::string_view partition_key,
                         std::string_view data) {
  std::string out;
  out.reserve(8 + 5 + partition_key.size() + data.size());
  PutFixed64(out, static_cast<uint64_t>(arrival_ms));
  PutString(out, partition_key);
  out.append(data);
  return out;
}

void SetRecordArrival(std::string& encoded, int64_t arrival_ms) {
  std::string fixed;
  PutFixed64(fixed, static_cast<uint64_t>(arrival_ms));
  encoded.replace(0, fixed.size(), fixed);
}

std::optional<StoredRecord> DecodeRecord(std::string_view value) {
  Reader r(value);
  StoredRecord record;
  record.arrival_ms = static_cast<int64_t>(r.Fixed64());
  record.partition_key = std::string(r.String());
  if (!r.ok()) {
    return std::nullopt;
  }
  record.data = std::string(r.rest());
  return record;
}

std::optional<int64_t> DecodeRecordArrival(std::string_view value) {
  Reader r(value);
  auto arrival = static_cast<int64_t>(r.Fixed64());
  if (!r.ok()) {
    return std::nullopt;
  }
  return arrival;
}

std::string EncodeStreamMeta(const StreamMeta& meta) {
  std::string out;
  out.push_back(static_cast<char>(meta.replication_factor != 0 ? kStreamMetaVersion : 2));
  PutVarint(out, meta.id);
  PutString(out, meta.name);
  PutString(out, meta.status);
  PutString(out, meta.mode);
  PutVarint(out, static_cast<uint64_t>(meta.retention_hours));
  PutFixed64(out, static_cast<uint64_t>(meta.created_ms));
  PutVarint(out, meta.tags.size());
  for (const auto& [key, value] : meta.tags) {
    PutString(out, key);
    PutString(out, value);
  }
  PutVarint(out, meta.shard_level_metrics.size());
  for (const std::string& metric : meta.shard_level_metrics) {
    PutString(out, metric);
  }
  PutString(out, meta.encryption_type);
  PutString(out, meta.key_id);
  PutVarint(out, static_cast<uint64_t>(meta.max_record_size_kib));
  PutVarint(out, meta.next_shard_ordinal);
  PutVarint(out, meta.next_consumer_registration);
  PutVarint(out, meta.shards.size());
  for (const ShardMeta& shard : meta.shards) {
    PutVarint(out, shard.ordinal);
    PutHashKey(out, shard.starting_hash_key);
    PutHashKey(out, shard.ending_hash_key);
    // Optional values are stored as value + 1, with 0 meaning absent.
    PutVarint(out, shard.parent_ordinal ? uint64_t{*shard.parent_ordinal} + 1 : 0);
    PutVarint(out,
              shard.adjacent_parent_ordinal ? uint64_t{*shard.adjacent_parent_ordinal} + 1 : 0);
    PutFixed64(out, static_cast<uint64_t>(shard.created_ms));
    PutVarint(out, shard.ending_position ? *shard.ending_position + 1 : 0);
    PutFixed64(out, static_cast<uint64_t>(shard.closed_ms));
  }
  PutVarint(out, meta.consumers.size());
  for (const ConsumerMeta& consumer : meta.consumers) {
    PutString(out, consumer.name);
    PutFixed64(out, static_cast<uint64_t>(consumer.created_ms));
    PutVarint(out, consumer.registration);
    PutString(out, consumer.resource_policy);
  }
  PutString(out, meta.resource_policy);
  PutVarint(out, static_cast<uint64_t>(meta.warm_throughput_mibps));
  if (meta.replication_factor != 0) {
    PutVarint(out, meta.replication_factor);
  }
  return out;
}

std::optional<StreamMeta> DecodeStreamMeta(std::string_view value) {
  if (value.empty() || static_cast<uint8_t>(value[0]) == 0 ||
      static_cast<uint8_t>(value[0]) > kStreamMetaVersion) {
    return std::nullopt;
  }
  const uint8_t version = static_cast<uint8_t>(value[0]);
  Reader r(value.substr(1));
  StreamMeta meta;
  meta.id = r.Varint();
  meta.name = std::string(r.String());
  meta.status = std::string(r.String());
  meta.mode = std::string(r.String());
  meta.retention_hours = static_cast<int32_t>(r.Varint());
  meta.created_ms = static_cast<int64_t>(r.Fixed64());
  for (uint64_t n = r.Varint(); r.ok() && n > 0; --n) {
    std::string key(r.String());
    meta.tags[key] = std::string(r.String());
  }
  for (uint64_t n = r.Varint(); r.ok() && n > 0; --n) {
    meta.shard_level_metrics.emplace_back(r.String());
  }
  meta.encryption_type = std::string(r.String());
  meta.key_id = std::string(r.String());
  meta.max_record_size_kib = static_cast<int32_t>(r.Varint());
  meta.next_shard_ordinal = static_cast<uint32_t>(r.Varint());
  meta.next_consumer_registration = r.Varint();
  for (uint64_t n = r.Varint(); r.ok() && n > 0; --n) {
    ShardMeta shard;
    shard.ordinal = static_cast<uint32_t>(r.Varint());
    shard.starting_hash_key = r.ReadHashKey();
    shard.ending_hash_key = r.ReadHashKey();
    if (uint64_t parent = r.Varint(); parent != 0) {
      shard.parent_ordinal = static_cast<uint32_t>(parent - 1);
    }
    if (uint64_t adjacent = r.Varint(); adjacent != 0) {
      shard.adjacent_parent_ordinal = static_cast<uint32_t>(adjacent - 1);
    }
    shard.created_ms = static_cast<int64_t>(r.Fixed64());
    if (uint64_t ending = r.Varint(); ending != 0) {
      shard.ending_position = ending - 1;
    }
    shard.closed_ms = static_cast<int64_t>(r.Fixed64());
    meta.shards.push_back(shard);
  }
  for (uint64_t n = r.Varint(); r.ok() && n > 0; --n) {
    ConsumerMeta consumer;
    consumer.name = std::string(r.String());
    consumer.created_ms = static_cast<int64_t>(r.Fixed64());
    consumer.registration = r.Varint();
    if (version >= 2) {
      consumer.resource_policy = std::string(r.String());
    }
    meta.consumers.push_back(std::move(consumer));
  }
  if (version >= 2) {
    meta.resource_policy = std::string(r.String());
    meta.warm_throughput_mibps = static_cast<int64_t>(r.Varint());
  }
  if (version >= 3) {
    meta.replication_factor = static_cast<uint32_t>(r.Varint());
  }
  if (!r.ok() || !r.done()) {
    return std::nullopt;
  }
  return meta;
}

std::string EncodeAccountMeta(const AccountMeta& meta) {
  std::string out;
  out.push_back(static_cast<char>(kAccountMetaVersion));
  PutString(out, meta.commitment_status);
  PutFixed64(out, static_cast<uint64_t>(meta.commitment_started_ms));
  PutFixed64(out, static_cast<uint64_t>(meta.commitment_ended_ms));
  PutFixed64(out, static_cast<uint64_t>(meta.commitment_earliest_end_ms));
  return out;
}

std::optional<AccountMeta> DecodeAccountMeta(std::string_view value) {
  if (value.empty() || static_cast<uint8_t>(value[0]) != kAccountMetaVersion) {
    return std::nullopt;
  }
  Reader r(value.substr(1));
  AccountMeta meta;
  meta.commitment_status = std::string(r.String());
  meta.commitment_started_ms = static_cast<int64_t>(r.Fixed64());
  meta.commitment_ended_ms = static_cast<int64_t>(r.Fixed64());
  meta.commitment_earliest_end_ms = static_cast<int64_t>(r.Fixed64());
  if (!r.ok() || !r.done()) {
    return std::nullopt;
  }
  return meta;
}

std::string EncodeGroupMeta(const GroupMeta& meta) {
  std::string out;
  out.push_back(static_cast<char>(kGroupMetaVersion));
  PutString(out, meta.name);
  PutFixed64(out, static_cast<uint64_t>(meta.created_ms));
  PutVarint(out, meta.shards.size());
  for (const GroupShardMeta& shard : meta.shards) {
    PutVarint(out, shard.shard_ordinal);
    PutVarint(out, shard.checkpoint);
    PutString(out, shard.lease_owner);
    PutFixed64(out, static_cast<uint64_t>(shard.lease_expires_ms));
    PutVarint(out, shard.lease_counter);
  }
  return out;
}

std::optional<GroupMeta> DecodeGroupMeta(std::string_view value) {
  if (value.empty() || static_cast<uint8_t>(value[0]) != kGroupMetaVersion) {
    return std::nullopt;
  }
  Reader r(value.substr(1));
  GroupMeta meta;
  meta.name = std::string(r.String());
  meta.created_ms = static_cast<int64_t>(r.Fixed64());
  for (uint64_t n = r.Varint(); r.ok() && n > 0; --n) {
    GroupShardMeta shard;
    shard.shard_ordinal = static_cast<uint32_t>(r.Varint());
    shard.checkpoint = r.Varint();
    shard.lease_owner = std::string(r.String());
    shard.lease_expires_ms = static_cast<int64_t>(r.Fixed64());
    shard.lease_counter = r.Varint();
    meta.shards.push_back(std::move(shard));
  }
  if (!r.ok() || !r.done()) {
    return std::nullopt;
  }
  return meta;
}

std::string GroupCatalogPrefix(uint64_t stream_id) {
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(stream_id));
  return std::string(kCatalogGroupPrefix) + id + "/";
}

std::string GroupCatalogKey(uint64_t stream_id, std::string_view group_name) {
  return GroupCatalogPrefix(stream_id) + std::string(group_name);
}

std::string LegacyShardColumnFamilyName(uint64_t stream_id, uint32_t shard_ordinal) {
  return "shard-" + std::to_string(stream_id) + "-" + std::to_string(shard_ordinal);
}

std::optional<std::pair<uint64_t, uint32_t>> ParseLegacyShardColumnFamilyName(
    std::string_view name) {
  uint64_t stream_id = 0;
  uint32_t ordinal = 0;
  const char* const end = name.data() + name.size();
  if (!name.starts_with("shard-")) {
    return std::nullopt;
  }
  auto [after_id, id_error] = std::from_chars(name.data() + 6, end, stream_id);
  if (id_error != std::errc() || after_id == end || *after_id != '-') {
    return std::nullopt;
  }
  auto [after_ordinal, ordinal_error] = std::from_chars(after_id + 1, end, ordinal);
  if (ordinal_error != std::errc() || after_ordinal != end) {
    return std::nullopt;
  }
  return std::pair{stream_id, ordinal};
}

}  // namespace riffle::storage
