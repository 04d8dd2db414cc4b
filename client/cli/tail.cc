#include <algorithm>
#include <chrono>
#include <ostream>
#include <set>
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
  std::string iterator{};
  client::IteratorPosition start{};
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
      // Index loop: Poll() may append children of a closed shard.
      for (size_t i = 0; i < cursors_.size() && !Stopped(); ++i) {
        if (cursors_[i].done) {
          continue;
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

  Status OpenCursors(const client::IteratorPosition& start) {
    std::vector<std::string> shard_ids;
    if (!args_.shard_id.empty()) {
      shard_ids.push_back(args_.shard_id);
    } else {
      RIFFLE_ASSIGN_OR_RETURN(std::vector<client::Shard> shards, client_.ListShards(args_.stream));
      for (const client::Shard& shard : shards) {
        shard_ids.push_back(shard.shard_id);
      }
    }
    // A sequence number belongs to one shard: the others refuse it with InvalidArgument, and are
    // left out rather than read from some other point.
    const bool one_shard_only =
        start.type == client::IteratorType::kAtSequenceNumber && args_.shard_id.empty();
    Status refused;
    for (const std::string& shard_id : shard_ids) {
      known_shards_.insert(shard_id);
      StatusOr<std::string> iterator = client_.GetShardIterator(args_.stream, shard_id, start);
      if (!iterator.ok()) {
        if (one_shard_only && iterator.status().code() == ErrorCode::kInvalidArgument) {
          refused = iterator.status();
          continue;
        }
        return iterator.status();
      }
      cursors_.push_back(
          {.shard_id = shard_id, .iterator = std::move(iterator).value(), .start = start});
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
      Print(cursor.shard_id, record);
      cursor.last_sequence_number = record.sequence_number;
    }
    if (!result->records.empty()) {
      round.printed = true;
      output_.out.flush();
    }
    cursor.iterator = std::move(result->next_shard_iterator);
    if (cursor.iterator.empty()) {
      cursor.done = true;  // the end of a closed shard: its hash keys moved to the children
      if (args_.follow) {
        for (const client::ChildShard& child : result->child_shards) {
          RIFFLE_RETURN_IF_ERROR(OpenChild(child.shard_id));
        }
      }
    } else if (!args_.follow && result->records.empty() && result->millis_behind_latest == 0) {
      cursor.done = true;  // caught up
    }
    return Status();
  }

  Status OpenChild(const std::string& shard_id) {
    if (!args_.shard_id.empty() || !known_shards_.insert(shard_id).second) {
      return Status();
    }
    const client::IteratorPosition start = client::IteratorPosition::TrimHorizon();
    RIFFLE_ASSIGN_OR_RETURN(std::string iterator,
                            client_.GetShardIterator(args_.stream, shard_id, start));
    cursors_.push_back({.shard_id = shard_id, .iterator = std::move(iterator), .start = start});
    return Status();
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

  void Print(const std::string& shard_id, const client::Record& record) {
    if (output_.json) {
      output_.out << tools::JsonObject()
                         .AddString("shard_id", shard_id)
                         .AddString("sequence_number", record.sequence_number)
                         .AddString("partition_key", record.partition_key)
                         .AddInt("arrival_time_ms", record.arrival_time_ms)
                         .AddBytes("data", record.data)
                         .Build()
                  << "\n";
    } else {
      output_.out << record.data << "\n";
    }
  }

  client::Client& client_;
  const Output& output_;
  const TailArgs& args_;
  std::vector<ShardCursor> cursors_;
  std::set<std::string> known_shards_;
  Status outage_;  // the last ServiceUnavailable while following
  bool outage_reported_ = false;
};

}  // namespace

Status Tail(client::Client& client, const Output& output, const TailArgs& args) {
  return Tailer(client, output, args).Run();
}

}  // namespace riffle::cli
