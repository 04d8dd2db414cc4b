#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <ostream>
#include <thread>
#include <vector>

#include "client/cli/commands.h"
#include "client/util/json_line.h"

namespace riffle::cli {
namespace {

constexpr size_t kMaxBatchRecords = 500;  // PutRecords' limit
// Flush at 4 MiB so that one more line of up to the 1 MiB record limit still keeps the call
// under PutRecords' 10 MiB.
constexpr size_t kFlushBatchBytes = 4 * 1024 * 1024;
constexpr int kMaxAttempts = 10;
constexpr std::chrono::milliseconds kFirstBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

// Splits a file descriptor into lines, and tells whether more input is ready so that produce can
// send what it has when an interactive writer pauses instead of waiting for a full batch.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  // The next line without its '\n'; nullopt at the end of the input.
  StatusOr<std::optional<std::string>> Next() {
    while (true) {
      if (size_t newline = buffer_.find('\n', pos_); newline != std::string::npos) {
        std::string line = buffer_.substr(pos_, newline - pos_);
        pos_ = newline + 1;
        return std::optional<std::string>(std::move(line));
      }
      if (eof_) {
        if (pos_ < buffer_.size()) {
          std::string line = buffer_.substr(pos_);
          pos_ = buffer_.size();
          return std::optional<std::string>(std::move(line));
        }
        return std::optional<std::string>();
      }
      buffer_.erase(0, pos_);
      pos_ = 0;
      RIFFLE_RETURN_IF_ERROR(Fill());
    }
  }

  // True when Next() would return without waiting for the writer.
  bool Ready() const {
    if (eof_ || buffer_.find('\n', pos_) != std::string::npos) {
      return true;
    }
    pollfd entry{.fd = fd_, .events = POLLIN, .revents = 0};
    return poll(&entry, 1, 0) > 0;
  }

 private:
  Status Fill() {
    char chunk[64 * 1024];
    while (true) {
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return Status();
      }
      if (n == 0) {
        eof_ = true;
        return Status();
      }
      if (errno != EINTR) {
        return Status(ErrorCode::kValidation,
                      std::string("cannot read the input: ") + std::strerror(errno));
      }
    }
  }

  const int fd_;
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
};

bool Retryable(ErrorCode code) {
  return code == ErrorCode::kProvisionedThroughputExceeded || code == ErrorCode::kLimitExceeded;
}

class Producer {
 public:
  Producer(client::Client& client, const Output& output, const ProduceArgs& args)
      : client_(client), output_(output), args_(args) {}

  Status Run() {
    LineReader reader(args_.input_fd);
    std::vector<client::RecordToPut> batch;
    size_t batch_bytes = 0;
    while (true) {
      RIFFLE_ASSIGN_OR_RETURN(std::optional<std::string> line, reader.Next());
      if (line) {
        batch_bytes += line->size() + args_.partition_key.size();
        batch.push_back({.data = std::move(*line), .partition_key = args_.partition_key});
      }
      const bool flush = !batch.empty() && (!line || batch.size() == kMaxBatchRecords ||
                                            batch_bytes >= kFlushBatchBytes || !reader.Ready());
      if (flush) {
        RIFFLE_RETURN_IF_ERROR(Send(batch));
        batch.clear();
        batch_bytes = 0;
      }
      if (!line) {
        break;
      }
    }
    Finish();
    return Status();
  }

 private:
  // Writes `batch`, retrying throttled entries with backoff, then reports each record in input
  // order. A retried entry lands after the ones that succeeded first.
  Status Send(const std::vector<client::RecordToPut>& batch) {
    std::vector<client::PutRecordsEntryResult> results(batch.size());
    std::vector<size_t> pending(batch.size());
    for (size_t i = 0; i < pending.size(); ++i) {
      pending[i] = i;
    }
    std::chrono::milliseconds backoff = kFirstBackoff;
    client::PutRecordsEntryResult last_failure;
    for (int attempt = 1; !pending.empty(); ++attempt) {
      if (attempt > 1) {
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, kMaxBackoff);
      }
      std::vector<client::RecordToPut> subset;
      subset.reserve(pending.size());
      for (size_t index : pending) {
        subset.push_back(batch[index]);
      }
      StatusOr<client::PutRecordsResult> put = client_.PutRecords(args_.stream, subset);
      if (!put.ok()) {
        if (Retryable(put.status().code()) && attempt < kMaxAttempts) {
          continue;
        }
        return put.status();
      }
      std::vector<size_t> still_pending;
      for (size_t i = 0; i < put->records.size() && i < pending.size(); ++i) {
        if (put->records[i].ok()) {
          results[pending[i]] = std::move(put->records[i]);
        } else {
          last_failure = put->records[i];
          still_pending.push_back(pending[i]);
        }
      }
      pending = std::move(still_pending);
      if (!pending.empty() && attempt >= kMaxAttempts) {
        return Status(
            ErrorCodeFromKinesisName(last_failure.error_code).value_or(ErrorCode::kInternalFailure),
            std::to_string(pending.size()) + " of " + std::to_string(batch.size()) +
                " records in a batch were not written after " + std::to_string(kMaxAttempts) +
                " attempts: " + last_failure.error_message);
      }
    }
    for (client::PutRecordsEntryResult& result : results) {
      ++line_number_;
      ++per_shard_[result.shard_id];
      if (output_.json) {
        output_.out << tools::JsonObject()
                           .AddInt("line", line_number_)
                           .AddString("shard_id", result.shard_id)
                           .AddString("sequence_number", result.sequence_number)
                           .Build()
                    << "\n";
      }
    }
    output_.out.flush();
    ShowProgress();
    return Status();
  }

  void ShowProgress() {
    if (!args_.show_progress) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress_ < std::chrono::seconds(1)) {
      return;
    }
    last_progress_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    char rate[32];
    std::snprintf(rate, sizeof(rate), "%.0f", seconds > 0 ? line_number_ / seconds : 0.0);
    output_.err << "\rproduced " << line_number_ << " records (" << rate << " records/s)"
                << std::flush;
    progress_shown_ = true;
  }

  void Finish() {
    if (progress_shown_) {
      output_.err << "\r\033[K" << std::flush;  // erase the progress line
    }
    if (output_.json) {
      return;
    }
    output_.out << "produced " << line_number_ << " records to stream " << args_.stream << "\n";
    for (const auto& [shard_id, count] : per_shard_) {
      output_.out << "  " << shard_id << ": " << count << "\n";
    }
  }

  client::Client& client_;
  const Output& output_;
  const ProduceArgs& args_;
  int64_t line_number_ = 0;
  std::map<std::string, int64_t> per_shard_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_progress_ = start_;
  bool progress_shown_ = false;
};

}  // namespace

Status Produce(client::Client& client, const Output& output, const ProduceArgs& args) {
  return Producer(client, output, args).Run();
}

}  // namespace riffle::cli
