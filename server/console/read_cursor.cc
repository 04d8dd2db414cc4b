#include "server/console/read_cursor.h"

#include <charconv>
#include <vector>

namespace riffle::console {
namespace {

// Shard ids, sequence numbers and the type names hold none of these separators.
constexpr char kEntrySeparator = ',';
constexpr char kShardSeparator = '=';
constexpr char kValueSeparator = ':';
constexpr std::string_view kNowhere = "NONE";

std::string FormatPosition(const std::optional<ShardPosition>& position) {
  if (!position) {
    return std::string(kNowhere);
  }
  if (position->type == "AT_TIMESTAMP") {
    return position->type + kValueSeparator + std::to_string(position->timestamp_ms);
  }
  if (!position->sequence_number.empty()) {
    return position->type + kValueSeparator + position->sequence_number;
  }
  return position->type;
}

std::optional<ShardPosition> ParsePosition(std::string_view text) {
  const size_t colon = text.find(kValueSeparator);
  ShardPosition position;
  position.type = std::string(text.substr(0, colon));
  const std::string_view value =
      colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (position.type == "TRIM_HORIZON" && colon == std::string_view::npos) {
    return position;
  }
  if (position.type == "AT_TIMESTAMP") {
    const auto [end, error] =
        std::from_chars(value.data(), value.data() + value.size(), position.timestamp_ms);
    if (error == std::errc() && end == value.data() + value.size()) {
      return position;
    }
    return std::nullopt;
  }
  if ((position.type == "AT_SEQUENCE_NUMBER" || position.type == "AFTER_SEQUENCE_NUMBER") &&
      !value.empty()) {
    position.sequence_number = std::string(value);
    return position;
  }
  return std::nullopt;
}

}  // namespace

StatusOr<ReadCursor> ReadCursor::Parse(const std::string& text) {
  const Status invalid(ErrorCode::kInvalidArgument,
                       "The cursor is not one that a page of records answered with.");
  std::vector<std::string_view> entries;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(kEntrySeparator);
    entries.push_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  ReadCursor cursor;
  if (entries.front() != kNowhere) {
    cursor.start_ = ParsePosition(entries.front());
    if (!cursor.start_) {
      return invalid;
    }
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    const size_t equals = entries[i].find(kShardSeparator);
    if (equals == std::string_view::npos || equals == 0) {
      return invalid;
    }
    std::optional<ShardPosition> position = ParsePosition(entries[i].substr(equals + 1));
    if (!position) {
      return invalid;
    }
    cursor.shards_[std::string(entries[i].substr(0, equals))] = std::move(*position);
  }
  return cursor;
}

std::string ReadCursor::ToString() const {
  std::string out = FormatPosition(start_);
  for (const auto& [shard_id, position] : shards_) {
    out += kEntrySeparator + shard_id + kShardSeparator + FormatPosition(position);
  }
  return out;
}

std::optional<ShardPosition> ReadCursor::PositionOf(const std::string& shard_id) const {
  auto it = shards_.find(shard_id);
  return it != shards_.end() ? std::optional<ShardPosition>(it->second) : start_;
}

void ReadCursor::Set(const std::string& shard_id, ShardPosition position) {
  shards_[shard_id] = std::move(position);
}

bool ReadCursor::SequenceNumberForAnyShard() const {
  return start_ && start_->type == "AT_SEQUENCE_NUMBER";
}

}  // namespace riffle::console
