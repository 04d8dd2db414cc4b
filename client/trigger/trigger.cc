#include "client/trigger/trigger.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "client/trigger/shard_worker.h"
#include "client/util/json_line.h"

namespace riffle::trigger {
namespace {

constexpr std::chrono::milliseconds kRound{1000};

std::string OwnerId() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", host, getpid(), random());
}

StatusOr<std::unique_ptr<Handler>> MakeHandler(const TriggerOptions& options) {
  if (!options.exec.empty()) {
    return NewExecHandler(options.exec);
  }
  if (!options.url.empty()) {
    std::unique_ptr<Handler> handler = NewUrlHandler(options.url);
    if (handler == nullptr) {
      return Status(ErrorCode::kValidation,
                    "--url takes http://host[:port]/path, not '" + options.url + "'");
    }
    return handler;
  }
  const size_t colon = options.python.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == options.python.size()) {
    return Status(ErrorCode::kValidation,
                  "--python takes FILE.py:FUNCTION, not '" + options.python + "'");
  }
  return NewPythonHandler(options.python.substr(0, colon), options.python.substr(colon + 1),
                          options.group);
}

// The ARN of the stream's consumer `name`, registering it if the stream has none of that name.
StatusOr<std::string> EnsureConsumer(client::Client& client, const std::string& stream,
                                     const std::string& name) {
  StatusOr<client::Consumer> consumer = client.DescribeStreamConsumer(stream, name);
  if (consumer.status().code() == ErrorCode::kResourceNotFound) {
    consumer = client.RegisterStreamConsumer(stream, name);
    if (consumer.status().code() == ErrorCode::kResourceInUse) {
      consumer = client.DescribeStreamConsumer(stream, name);  // another runner registered it
    }
  }
  RIFFLE_RETURN_IF_ERROR(consumer.status());
  return consumer->consumer_arn;
}

// One leased shard and the thread that delivers it.
struct Running {
  std::unique_ptr<ShardWorker> worker;
  std::thread thread;
  std::chrono::steady_clock::time_point renewed;
};

class Runner {
 public:
  Runner(client::Client& client, const cli::Output& output, const TriggerOptions& options,
         const std::atomic<bool>& stop, std::unique_ptr<FailureDestination> failures,
         std::string stream_arn, std::string consumer_arn)
      : client_(client),
        log_(output.err, output.json),
        options_(options),
        stop_(stop),
        failures_(std::move(failures)),
        stream_arn_(std::move(stream_arn)),
        consumer_arn_(std::move(consumer_arn)),
        owner_(OwnerId()) {}

  Status Run() {
    auto next_progress = std::chrono::steady_clock::now() + options_.progress_interval;
    while (!stop_.load()) {
      Reap();
      Renew();
      StatusOr<client::ConsumerGroup> group =
          client_.DescribeConsumerGroup(options_.stream, options_.group);
      if (group.ok()) {
        Balance(*group);
      } else if (group.status().code() == ErrorCode::kResourceNotFound) {
        StopAll();
        return group.status();  // the stream or the group was deleted
      } else {
        log_.Note("", group.status().message());
      }
      if (std::chrono::steady_clock::now() >= next_progress) {
        Report(group.ok() ? &*group : nullptr);
        next_progress += options_.progress_interval;
      }
      for (auto until = std::chrono::steady_clock::now() + kRound;
           !stop_.load() && std::chrono::steady_clock::now() < until;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    StopAll();
    Report(nullptr);
    return Status();
  }

 private:
  // Joins the workers that ended (their shard finished, their lease was lost, or handed over).
  void Reap() {
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->second->worker->returned()) {
        it->second->thread.join();
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Renews each lease a third of the way through it, so two failed renewals still leave time.
  void Renew() {
    const auto now = std::chrono::steady_clock::now();
    for (auto& [shard_id, running] : running_) {
      if (now - running->renewed < options_.lease_duration / 3 || running->worker->handing_over()) {
        continue;
      }
      StatusOr<client::ShardLease> renewed = client_.LeaseShard(
          options_.stream, options_.group, shard_id, owner_, options_.lease_duration);
      if (renewed.ok() && renewed->lease_counter == running->worker->lease().lease_counter) {
        running->renewed = now;
      } else if (renewed.ok() || renewed.status().code() == ErrorCode::kResourceInUse) {
        log_.Note(shard_id, "lease lost to another runner");
        running->worker->Stop(ShardWorker::Reason::kLeaseLost);
      }
    }
  }

  // Takes one more shard while this runner holds fewer than its share of the shards that can be
  // worked on now (open, or closed but unfinished, with finished parents), and hands one over
  // while it holds more than its share and another runner is known.
  void Balance(const client::ConsumerGroup& group) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    std::set<std::string> finished;
    std::set<std::string> owners = {owner_};
    for (const client::GroupShard& shard : group.shards) {
      if (shard.finished) {
        finished.insert(shard.shard_id);
      } else if (!shard.lease_owner.empty() && shard.lease_expires_ms > now_ms) {
        owners.insert(shard.lease_owner);
      }
    }
    std::vector<std::string> free;
    std::map<std::string, std::vector<std::string>> held_by_others;  // shard ids by owner
    size_t workable = 0;
    for (const client::GroupShard& shard : group.shards) {
      const bool ready = std::all_of(shard.parent_shard_ids.begin(), shard.parent_shard_ids.end(),
                                     [&](const std::string& p) { return finished.contains(p); });
      if (shard.finished || !ready) {
        continue;
      }
      ++workable;
      const bool leased = !shard.lease_owner.empty() && shard.lease_expires_ms > now_ms;
      if (!leased && !running_.contains(shard.shard_id)) {
        free.push_back(shard.shard_id);
      } else if (leased && shard.lease_owner != owner_) {
        held_by_others[shard.lease_owner].push_back(shard.shard_id);
      }
    }
    const size_t share = (workable + owners.size() - 1) / owners.size();
    const size_t kept =
        static_cast<size_t>(std::count_if(running_.begin(), running_.end(), [](const auto& entry) {
          return !entry.second->worker->handing_over();
        }));
    if (kept > share && owners.size() > 1) {
      for (auto& [shard_id, running] : running_) {
        if (!running->worker->handing_over()) {
          log_.Note(shard_id, "handed over to share the shards");
          running->worker->Stop(ShardWorker::Reason::kHandOver);
          return;
        }
      }
    }
    if (kept >= share) {
      return;
    }
    for (const std::string& shard_id : free) {
      if (Start(shard_id, client::Client::LeaseMode::kFree)) {
        return;  // one per round, so that runners starting together split the shards
      }
    }
    // No free shard, but fewer than our share: a runner that holds more than its share gives
    // one up. This is how a runner that joins busy ones gets shards at all, since the others
    // learn of a runner only through the leases it holds.
    for (const auto& [owner, shard_ids] : held_by_others) {
      if (shard_ids.size() > share) {
        Start(shard_ids.front(), client::Client::LeaseMode::kSteal);
        return;
      }
    }
  }

  bool Start(const std::string& shard_id, client::Client::LeaseMode mode) {
    StatusOr<client::ShardLease> lease = client_.LeaseShard(
        options_.stream, options_.group, shard_id, owner_, options_.lease_duration, mode);
    if (!lease.ok()) {
      return false;  // another runner was faster, or a parent is not finished yet
    }
    std::vector<std::unique_ptr<Handler>> handlers;
    for (int lane = 0; lane < options_.parallelization_factor; ++lane) {
      StatusOr<std::unique_ptr<Handler>> handler = MakeHandler(options_);
      if (!handler.ok()) {
        return false;  // validated before the first round
      }
      handlers.push_back(std::move(*handler));
    }
    auto running = std::make_unique<Running>();
    running->worker = std::make_unique<ShardWorker>(
        client_, options_, EventSource{.stream_arn = stream_arn_, .shard_id = shard_id},
        consumer_arn_, std::move(*lease), std::move(handlers), *failures_, counters_, stop_,
        log_);
    running->renewed = std::chrono::steady_clock::now();
    ShardWorker* worker = running->worker.get();
    running->thread = std::thread([worker] { worker->Run(); });
    log_.Note(
        shard_id,
        fmt::format(
            "{}, from {}",
            mode == client::Client::LeaseMode::kSteal ? "taken from a busier runner" : "leased",
            worker->lease().checkpoint.empty() ? "its first record"
                                               : "after " + worker->lease().checkpoint));
    running_[shard_id] = std::move(running);
    return true;
  }

  void StopAll() {
    for (auto& [shard_id, running] : running_) {
      running->thread.join();  // each sees stop_ (or its own stop) and ends after its batch
    }
    running_.clear();
  }

  void Report(const client::ConsumerGroup* group) {
    uint64_t lag_records = 0;
    int64_t lag_ms = 0;
    if (group != nullptr) {
      for (const client::GroupShard& shard : group->shards) {
        lag_records += shard.lag_records;
        lag_ms = std::max(lag_ms, shard.lag_ms);
      }
    }
    tools::JsonObject line;
    line.AddInt("shards", static_cast<int64_t>(running_.size()))
        .AddInt("records", static_cast<int64_t>(counters_.records.load()))
        .AddInt("invocations", static_cast<int64_t>(counters_.invocations.load()))
        .AddInt("errors", static_cast<int64_t>(counters_.errors.load()))
        .AddInt("failed_records", static_cast<int64_t>(counters_.failed_records.load()));
    if (group != nullptr) {
      line.AddInt("lag_records", static_cast<int64_t>(lag_records)).AddInt("lag_ms", lag_ms);
    }
    log_.Progress(
        line.Build(),
        fmt::format("{} shards, {} records delivered in {} invocations, {} errors, {} records to "
                    "on-failure{}",
                    running_.size(), counters_.records.load(), counters_.invocations.load(),
                    counters_.errors.load(), counters_.failed_records.load(),
                    group != nullptr
                        ? fmt::format(", group lag {} records / {} ms", lag_records, lag_ms)
                        : ""));
  }

  client::Client& client_;
  EventLog log_;
  const TriggerOptions& options_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<FailureDestination> failures_;
  const std::string stream_arn_;
  const std::string consumer_arn_;  // empty: GetRecords
  const std::string owner_;
  TriggerCounters counters_;
  std::map<std::string, std::unique_ptr<Running>> running_;  // by shard id
};

}  // namespace

Status RunTrigger(client::Client& client, const cli::Output& output, const TriggerOptions& options,
                  const std::atomic<bool>& stop) {
  if (options.batch_size < 1 || options.batch_size > 10000) {
    return Status(ErrorCode::kValidation, "--batch-size must be 1-10000");
  }
  if (options.parallelization_factor < 1 || options.parallelization_factor > 10) {
    return Status(ErrorCode::kValidation, "--parallelization-factor must be 1-10");
  }
  RIFFLE_RETURN_IF_ERROR(MakeHandler(options).status());
  RIFFLE_ASSIGN_OR_RETURN(std::unique_ptr<FailureDestination> failures,
                          NewFailureDestination(options.on_failure, client));
  RIFFLE_ASSIGN_OR_RETURN(client::StreamDescription stream, client.DescribeStream(options.stream));
  Status created =
      client.CreateConsumerGroup(options.stream, options.group, options.starting_position);
  if (!created.ok() && created.code() != ErrorCode::kResourceInUse) {
    return created;
  }
  std::string consumer_arn;
  if (!options.consumer.empty()) {
    RIFFLE_ASSIGN_OR_RETURN(consumer_arn, EnsureConsumer(client, options.stream, options.consumer));
  }
  Runner runner(client, output, options, stop, std::move(failures), stream.stream_arn,
                consumer_arn);
  return runner.Run();
}

}  // namespace riffle::trigger
