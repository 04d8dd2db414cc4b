// Where the record browser and the live tail stand in each shard of a stream. A page of records
// answers with the cursor of the next page; the page hands it back as an opaque string.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace riffle::console {

// A GetShardIterator starting point: a ShardIteratorType with its sequence number or time.
struct ShardPosition {
  std::string type;  // TRIM_HORIZON | AT_TIMESTAMP | AT_SEQUENCE_NUMBER | AFTER_SEQUENCE_NUMBER
  std::string sequence_number;
  int64_t timestamp_ms = 0;
};

class ReadCursor {
 public:
  // Every shard starts at `start`: shards the cursor has not moved yet, and shards that appear
  // later (the children of a split) alike.
  explicit ReadCursor(ShardPosition start) : start_(std::move(start)) {}
  // The inverse of ToString(); kInvalidArgument for any other text.
  static StatusOr<ReadCursor> Parse(const std::string& text);
  // "<start>[,<shard id>=<position>]...", a position being TYPE or TYPE:<value>.
  std::string ToString() const;

  // Where to read `shard_id` next; nullopt: not at all.
  std::optional<ShardPosition> PositionOf(const std::string& shard_id) const;
  void Set(const std::string& shard_id, ShardPosition position);
  // Whether the start is a sequence number, which only the shard it belongs to accepts.
  bool SequenceNumberForAnyShard() const;
  // From now on only the shards set so far are read: once the shard of a sequence number has
  // been found, the other shards have nothing to show.
  void StopAtUnlistedShards() { start_.reset(); }

 private:
  ReadCursor() = default;

  std::optional<ShardPosition> start_;  // nullopt: shards without an entry are not read
  std::map<std::string, ShardPosition> shards_;
};

}  // namespace riffle::console
