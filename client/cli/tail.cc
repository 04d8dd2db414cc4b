#include <algorithm>
#include <chrono>
#include <ostream>
#include <map>
#include <thread>
#include <vector>

#include "client/cli/commands.h"
#include "client/cli/start_position.h"
#include "client/util/json_line.h"

namespace riffle::cli {
namespace {

// Pause between polls once every shard is caught up. Five polls per second per shard is also
// the GetRecords quota of a PROVISIONED shard, so following never throttles itself.
constexpr std::chrono::milliseconds kIdlePoll{250};
constexpr std::chrono::milliseconds kThrottledPause{500};
// While following, a server that went away (restart, upgrade) is polled again at this pace.
constexpr std::chrono::milliseconds kUnavailablePause{1000};

// What one round of polls over the shards ran into.
struct PollRound {
  bool printed = false;
  bool throttled = false;
  bool unavailable = false;
};

struct ShardCursor {
  std::string shard_id{};
  // Read only after these are done, so that a partition key's records before a reshard (in the
  // parents) come out before those after it (in this child).
  std::vector<std::string> parents{};
  client::IteratorPosition start{};
  std::string iterator{};  // empty until opened, and again at the end of a closed shard
  bool opened = false;
  std::string last_sequence_number{};  // of the last record printed
  bool done = false;
};

class Tailer {
 public:
  Tailer(client::Client& client, const Output& output, const TailArgs& args)
      : client_(client), output_(output), args_(args) {}

  Status Run() {
    RIFFLE_ASSIGN_OR_RETURN(client::IteratorPosition start, ParseStartPosition(args_.from));
    RIFFLE_RETURN_IF_ERROR(OpenCursors(start));
    while (!Stopped()) {
      PollRound round;
      // Index loop: Poll() may append children of a closed shard, which come after their
      // parents and so are polled in the same round once those are done.
      for (size_t i = 0; i < cursors_.size() && !Stopped(); ++i) {
        if (cursors_[i].done || !ParentsDone(cursors_[i])) {
          continue;
        }
        if (!cursors_[i].opened) {
          RIFFLE_RETURN_IF_ERROR(Open(cursors_[i]));
        }
        RIFFLE_RETURN_IF_ERROR(Poll(i, round));
      }
      const bool all_done = std::all_of(cursors_.begin(), cursors_.end(),
                                        [](const ShardCursor& cursor) { return cursor.done; });
      if (all_done) {
        break;
      }
      ReportOutage(round);
      if (round.unavailable) {
        Sleep(kUnavailablePause);
      } else if (round.throttled) {
        Sleep(kThrottledPause);
      } else if (!round.printed) {
        Sleep(kIdlePoll);
      }
    }
    return Status();
  }

 private:
  bool Stopped() const { return args_.stop != nullptr && args_.stop->load(); }

  void Sleep(std::chrono::milliseconds duration) const {
    // In slices, so that a signal ends the wait promptly.
    const auto until = std::chrono::steady_clock::now() + duration;
    while (!Stopped() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // A parent that is not tracked does not hold its children back: it expired (ListShards leaves
  // it out), or the start position was not in it.
  bool ParentsDone(const ShardCursor& cursor) const {
    return std::all_of(cursor.parents.begin(), cursor.parents.end(), [&](const std::string& id) {
      auto it = index_of_.find(id);
      return it == index_of_.end() || cursors_[it->second].done;
    });
  }

  void Track(ShardCursor cursor) {
    index_of_.emplace(cursor.shard_id, cursors_.size());
    cursors_.push_back(std::move(cursor));
  }

  Status Open(ShardCursor& cursor) {
    RIFFLE_ASSIGN_OR_RETURN(cursor.iterator,
                            client_.GetShardIterator(args_.stream, cursor.shard_id, cursor.start));
    cursor.opened = true;
    return Status();
  }

  // Opens every listed shard at `start` now, so that a position like LATEST means the time the
  // tail started even for a shard that waits for its parents.
  Status OpenCursors(const client::IteratorPosition& start) {
    std::vector<ShardCursor> listed;
    if (!args_.shard_id.empty()) {
      listed.push_back({.shard_id = args_.shard_id, .start = start});
    } else {
      RIFFLE_ASSIGN_OR_RETURN(std::vector<client::Shard> shards, client_.ListShards(args_.stream));
      for (const client::Shard& shard : shards) {
        ShardCursor cursor{.shard_id = shard.shard_id, .start = start};
        for (const std::string* parent : {&shard.parent_shard_id, &shard.adjacent_parent_shard_id}) {
          if (!parent->empty()) {
            cursor.parents.push_back(*parent);
          }
        }
        listed.push_back(std::move(cursor));
      }
    }
    // A sequence number belongs to one shard: the others refuse it with InvalidArgument, and are
    // left out rather than read from some other point; the shard's children are read whole.
    const bool one_shard_only =
        start.type == client::IteratorType::kAtSequenceNumber && args_.shard_id.empty();
    Status refused;
    for (ShardCursor& cursor : listed) {
      Status opened = Open(cursor);
      if (!opened.ok()) {
        if (one_shard_only && opened.code() == ErrorCode::kInvalidArgument) {
          refused = opened;
          continue;
        }
        return opened;
      }
      Track(std::move(cursor));
    }
    if (cursors_.empty() && !refused.ok()) {
      return refused;
    }
    return Status();
  }

  // Says once on stderr that the server is away, and once that it is back, so a follower
  // that waits out a restart does not look hung.
  void ReportOutage(const PollRound& round) {
    if (round.unavailable && !outage_reported_) {
      output_.err << "riffle: " << outage_.ToString() << "; retrying\n" << std::flush;
      outage_reported_ = true;
    } else if (!round.unavailable && outage_reported_) {
      output_.err << "riffle: reconnected\n" << std::flush;
      outage_reported_ = false;
    }
  }

  Status Poll(size_t index, PollRound& round) {
    StatusOr<client::GetRecordsResult> result = client_.GetRecords(cursors_[index].iterator);
    if (!result.ok()) {
      switch (result.status().code()) {
        case ErrorCode::kProvisionedThroughputExceeded:
          round.throttled = true;
          return Status();
        case ErrorCode::kServiceUnavailable:
          if (!args_.follow) {
            return result.status();
          }
          // Iterators survive a restart, so the same one is tried again.
          outage_ = result.status();
          round.unavailable = true;
          return Status();
        case ErrorCode::kExpiredIterator:
          return Reopen(cursors_[index]);
        default:
          return result.status();
      }
    }
    ShardCursor& cursor = cursors_[index];
    for (const client::Record& record : result->records) {
      PrintRecord(output_, cursor.shard_id, record);
      cursor.last_sequence_number = record.sequence_number;
    }
    if (!result->records.empty()) {
      round.printed = true;
      output_.out.flush();
    }
    cursor.iterator = std::move(result->next_shard_iterator);
    if (cursor.iterator.empty()) {
      cursor.done = true;  // the end of a closed shard: its hash keys moved to the children
      for (const client::ChildShard& child : result->child_shards) {
        AddChild(child);
      }
    } else if (!args_.follow && result->records.empty() && result->millis_behind_latest == 0) {
      cursor.done = true;  // caught up
    }
    return Status();
  }

  // Tracks a child named at the end of a closed shard, unless it is tracked already (listed at
  // the start, or named by its other parent). It is opened at TRIM_HORIZON once its parents are
  // done: all of its records are newer than theirs.
  void AddChild(const client::ChildShard& child) {
    if (!args_.shard_id.empty() || index_of_.count(child.shard_id) > 0) {
      return;
    }
    Track({.shard_id = child.shard_id,
           .parents = child.parent_shards,
           .start = client::IteratorPosition::TrimHorizon()});
  }

  // An iterator lives 5 minutes; a tail that was suspended longer resumes where it stopped.
  Status Reopen(ShardCursor& cursor) {
    const client::IteratorPosition position =
        cursor.last_sequence_number.empty()
            ? cursor.start
            : client::IteratorPosition::AfterSequenceNumber(cursor.last_sequence_number);
    RIFFLE_ASSIGN_OR_RETURN(cursor.iterator,
                            client_.GetShardIterator(args_.stream, cursor.shard_id, position));
    return Status();
  }

  client::Client& client_;
  const Output& output_;
  const TailArgs& args_;
  std::vector<ShardCursor> cursors_;  // parents before children
  std::map<std::string, size_t> index_of_;  // shard id -> its cursor
  Status outage_;  // the last ServiceUnavailable while following
  bool outage_reported_ = false;
};

}  // namespace

void PrintRecord(const Output& output, const std::string& shard_id, const client::Record& record) {
  if (output.json) {
    output.out << tools::JsonObject()
                      .AddString("shard_id", shard_id)
                      .AddString("sequence_number", record.sequence_number)
                      .AddString("partition_key", record.partition_key)
                      .AddInt("arrival_time_ms", record.arrival_time_ms)
                      .AddBytes("data", record.data)
                      .Build()
               << "\n";
  } else {
    output.out << record.data << "\n";
  }
}

Status Tail(client::Client& client, const Output& output, const TailArgs& args) {
  return Tailer(client, output, args).Run();
}

}  // namespace riffle::cli
