#include "client/trigger/record_feed.h"

#include <condition_variable>
#include <deque>
#include <iterator>
#include <mutex>
#include <thread>

namespace riffle::trigger {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

client::IteratorPosition After(const std::string& checkpoint) {
  return checkpoint.empty() ? client::IteratorPosition::TrimHorizon()
                            : client::IteratorPosition::AfterSequenceNumber(checkpoint);
}

class PollingFeed final : public RecordFeed {
 public:
  PollingFeed(client::Client& client, std::string stream, std::string shard_id,
              std::string checkpoint)
      : client_(client),
        stream_(std::move(stream)),
        shard_id_(std::move(shard_id)),
        checkpoint_(std::move(checkpoint)) {}

  StatusOr<std::vector<client::Record>> Next(size_t max, milliseconds /*wait*/) override {
    std::this_thread::sleep_until(next_call_);
    if (iterator_.empty()) {
      RIFFLE_ASSIGN_OR_RETURN(iterator_,
                              client_.GetShardIterator(stream_, shard_id_, After(checkpoint_)));
    }
    const size_t limit = std::min<size_t>(max, kMaxRecordsPerCall);
    StatusOr<client::GetRecordsResult> read =
        client_.GetRecords(iterator_, static_cast<int32_t>(limit));
    if (!read.ok()) {
      iterator_.clear();
      next_call_ = steady_clock::now() + kPollInterval;
      return read.status();
    }
    // A full read means a backlog: the next read goes as soon as these are handled.
    next_call_ =
        read->records.size() >= limit ? steady_clock::now() : steady_clock::now() + kPollInterval;
    iterator_ = std::move(read->next_shard_iterator);
    ended_ = iterator_.empty();
    if (!read->records.empty()) {
      checkpoint_ = read->records.back().sequence_number;
    }
    return std::move(read->records);
  }

  bool ended() const override { return ended_; }

  void Restart(const std::string& checkpoint) override {
    checkpoint_ = checkpoint;
    iterator_.clear();
    ended_ = false;
  }

 private:
  static constexpr milliseconds kPollInterval{250};
  static constexpr size_t kMaxRecordsPerCall = 10000;  // GetRecords' Limit

  client::Client& client_;
  const std::string stream_;
  const std::string shard_id_;
  std::string checkpoint_;  // where a new iterator starts after: the last record returned
  std::string iterator_;
  bool ended_ = false;
  steady_clock::time_point next_call_{};
};

class SubscriptionFeed final : public RecordFeed {
 public:
  SubscriptionFeed(client::Client& client, std::string consumer_arn, std::string shard_id,
                   std::string checkpoint)
      : client_(client),
        consumer_arn_(std::move(consumer_arn)),
        shard_id_(std::move(shard_id)),
        checkpoint_(std::move(checkpoint)) {}

  ~SubscriptionFeed() override { Close(); }

  StatusOr<std::vector<client::Record>> Next(size_t max, milliseconds wait) override {
    if (subscription_ == nullptr) {
      RIFFLE_ASSIGN_OR_RETURN(
          subscription_, client_.SubscribeToShard(consumer_arn_, shard_id_, After(checkpoint_)));
      reader_ = std::thread([this] { Read(); });
    }
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, wait, [&] { return !buffer_.empty() || shard_ended_ || !error_.ok(); });
    if (buffer_.empty() && !error_.ok()) {
      return error_;
    }
    const size_t take = std::min(max, buffer_.size());
    std::vector<client::Record> out(std::make_move_iterator(buffer_.begin()),
                                    std::make_move_iterator(buffer_.begin() + take));
    buffer_.erase(buffer_.begin(), buffer_.begin() + take);
    changed_.notify_all();  // the reader may be waiting for room
    return out;
  }

  bool ended() const override {
    std::lock_guard lock(mu_);
    return shard_ended_ && buffer_.empty();
  }

  void Restart(const std::string& checkpoint) override {
    Close();
    checkpoint_ = checkpoint;
  }

 private:
  // Records pushed but not yet taken, at most: the server waits (gRPC flow control) beyond it.
  static constexpr size_t kMaxBuffered = 20000;

  // The reader thread: moves every pushed record into the buffer until the call ends.
  void Read() {
    client::SubscriptionEvent event;
    while (subscription_->Next(event)) {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return buffer_.size() < kMaxBuffered || closing_; });
      std::move(event.records.begin(), event.records.end(), std::back_inserter(buffer_));
      shard_ended_ = event.shard_ended();
      changed_.notify_all();
      if (shard_ended_) {
        return;
      }
    }
    std::lock_guard lock(mu_);
    error_ = subscription_->status().ok()
                 ? Status(ErrorCode::kServiceUnavailable,
                          "the subscription to " + shard_id_ + " ended; subscribing again")
                 : subscription_->status();
    changed_.notify_all();
  }

  void Close() {
    if (subscription_ == nullptr) {
      return;
    }
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      changed_.notify_all();
    }
    subscription_->Cancel();
    reader_.join();
    subscription_.reset();
    std::lock_guard lock(mu_);
    buffer_.clear();
    shard_ended_ = false;
    closing_ = false;
    error_ = Status();
  }

  client::Client& client_;
  const std::string consumer_arn_;
  const std::string shard_id_;
  std::string checkpoint_;  // where the next subscription starts after
  std::unique_ptr<client::ShardSubscription> subscription_;
  std::thread reader_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<client::Record> buffer_;  // guarded by mu_
  bool shard_ended_ = false;           // guarded by mu_: the shard's last event came
  bool closing_ = false;               // guarded by mu_
  Status error_;                       // guarded by mu_: why the subscription ended
};

}  // namespace

std::unique_ptr<RecordFeed> NewPollingFeed(client::Client& client, std::string stream,
                                           std::string shard_id, std::string checkpoint) {
  return std::make_unique<PollingFeed>(client, std::move(stream), std::move(shard_id),
                                       std::move(checkpoint));
}

std::unique_ptr<RecordFeed> NewSubscriptionFeed(client::Client& client, std::string consumer_arn,
                                                std::string shard_id, std::string checkpoint) {
  return std::make_unique<SubscriptionFeed>(client, std::move(consumer_arn), std::move(shard_id),
                                            std::move(checkpoint));
}

}  // namespace riffle::trigger
