// Every byte layout Riffle keeps on disk, and the identifiers derived from them (sequence
// numbers, shard ids, hash keys). The one home of these formats; docs/storage-format.md
// describes the same layouts for people.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace riffle::storage {

using HashKey = unsigned __int128;
inline constexpr HashKey kMaxHashKey = ~HashKey{0};  // 2^128 - 1

// Decimal text <-> 128-bit hash key. Parse accepts only digits; nullopt on anything else or on
// a value above 2^128 - 1.
std::optional<HashKey> ParseHashKey(std::string_view text);
std::string FormatHashKey(HashKey key);

// The hash-key ranges of a new stream with `count` shards: shard i covers
// [i*step, (i+1)*step - 1] with step = floor(2^128 / count); the last absorbs the remainder.
std::vector<std::pair<HashKey, HashKey>> EvenHashKeyRanges(uint32_t count);

// Sequence numbers: "1" + shard ordinal (20 digits) + position (20 digits), 41 digits in all.
// The position of the record at offset o is o + 1; position 0 is the shard's
// StartingSequenceNumber, below every record, so "after the start" means "from the first
// record". Fixed width, so string order equals numeric order: tools that sort sequence numbers as
// strings and SDKs that compare them as big integers agree. Properties: strictly increasing
// within a shard, unique in a stream (ordinals are), larger in children (their ordinals are
// larger), and O(1) to decode.
struct SequencePosition {
  uint32_t shard_ordinal = 0;
  uint64_t position = 0;  // record offset + 1; 0 = before the first record
};
std::string FormatSequenceNumber(uint32_t shard_ordinal, uint64_t position);
// nullopt unless `text` is a sequence number in the format above.
std::optional<SequencePosition> ParseSequenceNumber(std::string_view text);

// "shardId-000000000007". Parse also accepts the forms AWS resolves: the digits between the
// first '-' and the next one ("shardId-7", "a-0007", "-7", "7-x" is not) or, with no '-',
// the whole text ("7"); leading zeros allowed, at most 2^31-1.
std::string FormatShardId(uint32_t shard_ordinal);
std::optional<uint32_t> ParseShardId(std::string_view text);

// Key of a record in the `records` column family: stream id (8 bytes), shard ordinal (4 bytes)
// and offset (8 bytes), all big-endian. Key order is therefore stream, shard, then offset
// order, and each shard's records (and each stream's) are one contiguous key range.
inline constexpr size_t kShardKeyPrefixSize = 12;
inline constexpr size_t kRecordKeySize = kShardKeyPrefixSize + 8;
std::string ShardKeyPrefix(uint64_t stream_id, uint32_t shard_ordinal);
// The first key after every key of the shard: its range is [ShardKeyPrefix, ShardKeyLimit).
std::string ShardKeyLimit(uint64_t stream_id, uint32_t shard_ordinal);
std::string EncodeRecordKey(uint64_t stream_id, uint32_t shard_ordinal, uint64_t offset);
struct RecordKey {
  uint64_t stream_id = 0;
  uint32_t shard_ordinal = 0;
  uint64_t offset = 0;
};
std::optional<RecordKey> DecodeRecordKey(std::string_view key);

// Key of a record in a shard column family of the layout before the `records` column family
// (docs/storage-format.md, "Upgrading"): the offset alone, 8 bytes big-endian.
std::optional<uint64_t> DecodeOffsetKey(std::string_view key);

// Value of a record.
struct StoredRecord {
  int64_t arrival_ms = 0;  // ms since the Unix epoch; non-decreasing within a shard
  std::string partition_key;
  std::string data;
};
// fixed64 arrival_ms | varint32 key length | key | data (to the end)
std::string EncodeRecord(int64_t arrival_ms, std::string_view partition_key, std::string_view data);
std::optional<StoredRecord> DecodeRecord(std::string_view value);
// Only the arrival time, without copying the payload.
std::optional<int64_t> DecodeRecordArrival(std::string_view value);
// Rewrites the arrival time of an encoded record in place: the committer learns a record's
// arrival time only when it orders it within its shard.
void SetRecordArrival(std::string& encoded, int64_t arrival_ms);

// Catalog values. Version-tagged so the layout can grow.
struct ShardMeta {
  uint32_t ordinal = 0;
  HashKey starting_hash_key = 0;
  HashKey ending_hash_key = 0;
  std::optional<uint32_t> parent_ordinal;
  std::optional<uint32_t> adjacent_parent_ordinal;
  int64_t created_ms = 0;
  // Set when a reshard closes the shard: the position of its last record, and when.
  std::optional<uint64_t> ending_position;
  int64_t closed_ms = 0;
};

// An enhanced fan-out consumer registered on a stream.
struct ConsumerMeta {
  std::string name;
  int64_t created_ms = 0;       // its ARN ends in the creation time in seconds
  uint64_t registration = 0;    // per stream, rises with each registration: the listing order
  std::string resource_policy;  // PutResourcePolicy's document, verbatim; empty: none
};

struct StreamMeta {
  uint64_t id = 0;  // internal id: never reused, so a re-created name never meets old data
  std::string name;
  std::string status;  // CREATING | ACTIVE | UPDATING | DELETING
  std::string mode;    // PROVISIONED | ON_DEMAND
  int32_t retention_hours = 24;
  int64_t created_ms = 0;
  std::map<std::string, std::string> tags;
  std::vector<std::string> shard_level_metrics;
  std::string encryption_type = "NONE";
  std::string key_id;
  int32_t max_record_size_kib = 1024;
  uint32_t next_shard_ordinal = 0;
  uint64_t next_consumer_registration = 0;
  std::vector<ShardMeta> shards;
  std::vector<ConsumerMeta> consumers;
  std::string resource_policy;        // PutResourcePolicy's document, verbatim; empty: none
  int64_t warm_throughput_mibps = 0;  // UpdateStreamWarmThroughput's target; 0: none
  // Copies of each shard in a cluster, set at creation; 0: the cluster's default.
  uint32_t replication_factor = 0;
};

// The most copies of a shard a stream may ask for.
inline constexpr int64_t kMaxReplicationFactor = 5;

std::string EncodeStreamMeta(const StreamMeta& meta);
std::optional<StreamMeta> DecodeStreamMeta(std::string_view value);

// A consumer group's progress in one shard, and the lease on it. The lease counter rises with
// every grant to a new holder, so it is a fencing token: a checkpoint that carries an older one
// comes from a worker whose lease was taken.
struct GroupShardMeta {
  uint32_t shard_ordinal = 0;
  uint64_t checkpoint = 0;  // position of the last record processed; 0: none yet
  std::string lease_owner;  // empty: never leased
  int64_t lease_expires_ms = 0;
  uint64_t lease_counter = 0;
};

// A named consumer group of one stream. Shards it has no entry for have no checkpoint (they are
// read from their first record) and no lease.
struct GroupMeta {
  std::string name;
  int64_t created_ms = 0;
  std::vector<GroupShardMeta> shards;  // by ordinal
};

std::string EncodeGroupMeta(const GroupMeta& meta);
std::optional<GroupMeta> DecodeGroupMeta(std::string_view value);

// An account's settings (UpdateAccountSettings); times are 0 when unset.
struct AccountMeta {
  std::string commitment_status = "DISABLED";
  int64_t commitment_started_ms = 0;
  int64_t commitment_ended_ms = 0;
  int64_t commitment_earliest_end_ms = 0;
};

std::string EncodeAccountMeta(const AccountMeta& meta);
std::optional<AccountMeta> DecodeAccountMeta(std::string_view value);

// Catalog keys.
inline constexpr std::string_view kCatalogStreamPrefix = "stream/";
inline constexpr std::string_view kCatalogNextStreamIdKey = "meta/next_stream_id";
inline constexpr std::string_view kCatalogIteratorSecretKey = "meta/iterator_secret";
// "group/<stream id, 16 hex digits>/<group name>": the stream id keeps a re-created stream's
// groups apart from the old one's, and puts a stream's groups under one prefix.
inline constexpr std::string_view kCatalogGroupPrefix = "group/";
// "account/<account id>": AccountMeta.
inline constexpr std::string_view kCatalogAccountPrefix = "account/";
std::string GroupCatalogPrefix(uint64_t stream_id);
std::string GroupCatalogKey(uint64_t stream_id, std::string_view group_name);
// Present once the data directory belongs to a cluster: its catalog is then a copy of the
// cluster's (docs/cluster.md), never published back as a new cluster's.
inline constexpr std::string_view kCatalogClusterKey = "meta/cluster";

// Column family of one shard in the layout before the `records` column family:
// "shard-<stream id>-<ordinal>". Only read, to upgrade such a data directory.
std::string LegacyShardColumnFamilyName(uint64_t stream_id, uint32_t shard_ordinal);
std::optional<std::pair<uint64_t, uint32_t>> ParseLegacyShardColumnFamilyName(
    std::string_view name);

}  // namespace riffle::storage
