#include "server/cluster/replica_state.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace riffle::cluster {
namespace {

// Parses "name=value" words; false on anything else.
bool ParseUint(std::string_view text, uint64_t& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string ReplicaStateKey(uint64_t stream_id, uint32_t ordinal) {
  return fmt::format("{}{:020}/{:010}", kReplicaStatePrefix, stream_id, ordinal);
}

// "fenced=<e> committed=<n> history=<e>@<offset>,<e>@<offset>"
std::string EncodeReplicaState(const ReplicaState& state) {
  std::string history;
  for (const EpochStart& start : state.history) {
    history += fmt::format("{}{}@{}", history.empty() ? "" : ",", start.epoch, start.start_offset);
  }
  return fmt::format("fenced={} committed={} history={}", state.fenced_epoch, state.committed,
                     history);
}

std::optional<ReplicaState> DecodeReplicaState(std::string_view value) {
  ReplicaState state;
  size_t at = 0;
  while (at < value.size()) {
    size_t space = value.find(' ', at);
    std::string_view word = value.substr(at, space == std::string_view::npos ? value.size() - at
                                                                             : space - at);
    at = space == std::string_view::npos ? value.size() : space + 1;
    const size_t eq = word.find('=');
    if (eq == std::string_view::npos) {
      return std::nullopt;
    }
    const std::string_view name = word.substr(0, eq);
    std::string_view rest = word.substr(eq + 1);
    if (name == "fenced") {
      if (!ParseUint(rest, state.fenced_epoch)) return std::nullopt;
    } else if (name == "committed") {
      if (!ParseUint(rest, state.committed)) return std::nullopt;
    } else if (name == "history") {
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        const size_t sep = item.find('@');
        EpochStart start;
        if (sep == std::string_view::npos || !ParseUint(item.substr(0, sep), start.epoch) ||
            !ParseUint(item.substr(sep + 1), start.start_offset)) {
          return std::nullopt;
        }
        state.history.push_back(start);
      }
    }
  }
  return state;
}

uint64_t EpochAt(const EpochHistory& history, uint64_t offset) {
  uint64_t epoch = 0;
  for (const EpochStart& start : history) {
    if (start.start_offset > offset) {
      break;
    }
    epoch = start.epoch;
  }
  return epoch;
}

uint64_t FirstDivergence(const EpochHistory& a, const EpochHistory& b, uint64_t end) {
  // Epochs can only change where one of the histories starts one, so it is enough to compare
  // at offset 0 and at every start offset below `end`.
  std::vector<uint64_t> points = {0};
  for (const EpochStart& start : a) points.push_back(start.start_offset);
  for (const EpochStart& start : b) points.push_back(start.start_offset);
  std::sort(points.begin(), points.end());
  for (uint64_t point : points) {
    if (point >= end) {
      break;
    }
    if (EpochAt(a, point) != EpochAt(b, point)) {
      return point;
    }
  }
  return end;
}

EpochHistory HistoryBelow(const EpochHistory& history, uint64_t end) {
  EpochHistory kept;
  for (const EpochStart& start : history) {
    if (start.start_offset < end) {
      kept.push_back(start);
    }
  }
  return kept;
}

}  // namespace riffle::cluster
