#include "client/bench/bench.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <ostream>
#include <random>
#include <thread>
#include <vector>

#include "client/bench/latency_histogram.h"
#include "client/util/json_line.h"
#include "riffle/client.h"

namespace riffle::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kThrottledPause{100};

bool Retryable(ErrorCode code) {
  return code == ErrorCode::kProvisionedThroughputExceeded || code == ErrorCode::kLimitExceeded;
}

// Counters shared by the workers of one phase and the progress reporter.
struct PhaseCounters {
  std::atomic<int64_t> records{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> throttled{0};
  std::atomic<bool> stop{false};

  std::mutex mu;
  Status error;                // guarded by mu; the first fatal error
  LatencyHistogram latencies;  // guarded by mu; merged in by each worker when it ends

  void Fail(Status status) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) {
      error = std::move(status);
    }
    stop = true;
  }
};

// Prints records/s and MB/s of the last second to `err` until the phase ends.
class ProgressReporter {
 public:
  ProgressReporter(const char* phase, PhaseCounters& counters, std::ostream& err)
      : thread_([this, phase, &counters, &err] { Run(phase, counters, err); }) {}
  ~ProgressReporter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void Run(const char* phase, PhaseCounters& counters, std::ostream& err) {
    const Clock::time_point start = Clock::now();
    int64_t last_records = 0;
    int64_t last_bytes = 0;
    std::unique_lock<std::mutex> lock(mu_);
    for (int second = 1;; ++second) {
      if (wake_.wait_until(lock, start + std::chrono::seconds(second), [this] { return done_; })) {
        return;
      }
      const int64_t records = counters.records.load();
      const int64_t bytes = counters.bytes.load();
      char line[160];
      std::snprintf(line, sizeof(line),
                    "[%s %4ds] %10lld records/s %8.2f MB/s  total %lld  throttled %lld\n", phase,
                    second, static_cast<long long>(records - last_records),
                    static_cast<double>(bytes - last_bytes) / 1e6, static_cast<long long>(records),
                    static_cast<long long>(counters.throttled.load()));
      err << line << std::flush;
      last_records = records;
      last_bytes = bytes;
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  bool done_ = false;  // guarded by mu_
  std::thread thread_;
};

void Report(const char* phase, PhaseCounters& counters, double seconds, std::ostream& out,
            bool json) {
  const LatencyHistogram& latencies = counters.latencies;
  const auto ms = [](uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
  const double records = static_cast<double>(counters.records.load());
  const double megabytes = static_cast<double>(counters.bytes.load()) / 1e6;
  if (json) {
    out << tools::JsonObject()
               .AddString("phase", phase)
               .AddInt("records", counters.records.load())
               .AddInt("bytes", counters.bytes.load())
               .AddDouble("seconds", seconds)
               .AddDouble("records_per_sec", records / seconds)
               .AddDouble("mb_per_sec", megabytes / seconds)
               .AddInt("calls", counters.calls.load())
               .AddInt("throttled", counters.throttled.load())
               .AddRaw("latency_ms", tools::JsonObject()
                                         .AddDouble("p50", ms(latencies.QuantileMicros(0.5)))
                                         .AddDouble("p99", ms(latencies.QuantileMicros(0.99)))
                                         .AddDouble("p999", ms(latencies.QuantileMicros(0.999)))
                                         .AddDouble("max", ms(latencies.max_micros()))
                                         .Build())
               .Build()
        << "\n";
    return;
  }
  char line[400];
  std::snprintf(line, sizeof(line),
                "%s: %lld records in %.2f s: %.0f records/s, %.2f MB/s\n"
                "  %lld calls, latency per call p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, "
                "max %.2f ms; %lld throttled\n",
                phase, static_cast<long long>(counters.records.load()), seconds, records / seconds,
                megabytes / seconds, static_cast<long long>(counters.calls.load()),
                ms(latencies.QuantileMicros(0.5)), ms(latencies.QuantileMicros(0.99)),
                ms(latencies.QuantileMicros(0.999)), ms(latencies.max_micros()),
                static_cast<long long>(counters.throttled.load()));
  out << line;
}

Status CreateStream(client::Client& client, const BenchOptions& options, std::ostream& err) {
  client::CreateStreamOptions create;
  if (options.shards) {
    create.shard_count = options.shards;
  } else {
    create.mode = client::StreamMode::kOnDemand;
  }
  Status created = client.CreateStream(options.stream, create);
  if (created.code() == ErrorCode::kResourceInUse) {
    err << "stream " << options.stream << " exists; using it as it is\n";
  } else if (!created.ok()) {
    return created;
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);
  while (true) {
    RIFFLE_ASSIGN_OR_RETURN(client::StreamDescription description,
                            client.DescribeStream(options.stream));
    if (description.stream_status == "ACTIVE") {
      return Status();
    }
    if (Clock::now() > deadline) {
      return Status(ErrorCode::kResourceInUse, "stream " + options.stream + " is still " +
                                                   description.stream_status + " after 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void WriteWorker(client::Client& client, const BenchOptions& options, int worker,
                 std::atomic<int64_t>& claimed, Clock::time_point deadline,
                 PhaseCounters& counters) {
  std::mt19937_64 random(std::random_device{}() + static_cast<uint64_t>(worker));
  // Random printable data, sliced at random offsets, so records differ and do not compress away.
  std::string pool(static_cast<size_t>(options.record_size) + 4096, ' ');
  for (char& c : pool) {
    c = static_cast<char>('!' + random() % 94);
  }
  std::uniform_int_distribution<int> key_of(0, std::max(options.partition_keys, 1) - 1);
  std::uniform_int_distribution<size_t> offset_of(0, 4096);
  LatencyHistogram latencies;
  std::vector<client::RecordToPut> batch;
  while (!counters.stop.load()) {
    int64_t count = options.batch_size;
    if (options.records > 0) {
      const int64_t first = claimed.fetch_add(count);
      if (first >= options.records) {
        break;
      }
      count = std::min(count, options.records - first);
    } else if (Clock::now() >= deadline) {
      break;
    }
    batch.clear();
    for (int64_t i = 0; i < count; ++i) {
      batch.push_back({.data = pool.substr(offset_of(random), options.record_size),
                       .partition_key = "pk-" + std::to_string(key_of(random))});
    }
    // Throttled records are sent again until written, so `records` counts each one once.
    while (!batch.empty() && !counters.stop.load()) {
      const Clock::time_point start = Clock::now();
      Status status;
      std::vector<client::RecordToPut> failed;
      if (options.batch_size == 1) {
        status = client.PutRecord(options.stream, batch.front()).status();
        if (status.ok()) {
          batch.clear();
        }
      } else {
        StatusOr<client::PutRecordsResult> put = client.PutRecords(options.stream, batch);
        status = put.status();
        if (put.ok()) {
          for (size_t i = 0; i < put->records.size() && i < batch.size(); ++i) {
            if (!put->records[i].ok()) {
              failed.push_back(std::move(batch[i]));
            }
          }
          batch = std::move(failed);
        }
      }
      latencies.Record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()));
      counters.calls.fetch_add(1);
      if (!status.ok() && !Retryable(status.code())) {
        counters.Fail(status);
        break;
      }
      if (!batch.empty()) {
        counters.throttled.fetch_add(static_cast<int64_t>(batch.size()));
        std::this_thread::sleep_for(kThrottledPause);
      }
    }
    const int64_t written = count - static_cast<int64_t>(batch.size());
    counters.records.fetch_add(written);
    counters.bytes.fetch_add(written * options.record_size);
  }
  std::lock_guard<std::mutex> lock(counters.mu);
  counters.latencies.Merge(latencies);
}

void ReadWorker(client::Client& client, const BenchOptions& options,
                const std::vector<std::string>& shard_ids, std::atomic<size_t>& next_shard,
                PhaseCounters& counters) {
  LatencyHistogram latencies;
  for (size_t index = next_shard.fetch_add(1); index < shard_ids.size() && !counters.stop.load();
       index = next_shard.fetch_add(1)) {
    StatusOr<std::string> iterator = client.GetShardIterator(
        options.stream, shard_ids[index], client::IteratorPosition::TrimHorizon());
    if (!iterator.ok()) {
      counters.Fail(iterator.status());
      break;
    }
    std::string position = std::move(iterator).value();
    while (!position.empty() && !counters.stop.load()) {
      const Clock::time_point start = Clock::now();
      StatusOr<client::GetRecordsResult> result = client.GetRecords(position);
      latencies.Record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()));
      counters.calls.fetch_add(1);
      if (!result.ok()) {
        if (Retryable(result.status().code())) {
          counters.throttled.fetch_add(1);
          std::this_thread::sleep_for(kThrottledPause);
          continue;
        }
        counters.Fail(result.status());
        break;
      }
      int64_t bytes = 0;
      for (const client::Record& record : result->records) {
        bytes += static_cast<int64_t>(record.data.size());
      }
      counters.records.fetch_add(static_cast<int64_t>(result->records.size()));
      counters.bytes.fetch_add(bytes);
      if (result->records.empty() && result->millis_behind_latest == 0) {
        break;  // caught up with this shard
      }
      position = std::move(result->next_shard_iterator);
    }
  }
  std::lock_guard<std::mutex> lock(counters.mu);
  counters.latencies.Merge(latencies);
}

template <typename Worker>
Status RunPhase(const char* phase, const BenchOptions& options, int threads, Worker worker,
                std::ostream& out, std::ostream& err) {
  PhaseCounters counters;
  const Clock::time_point start = Clock::now();
  {
    ProgressReporter progress(phase, counters, err);
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] { worker(i, counters); });
    }
    for (std::thread& thread : workers) {
      thread.join();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  RIFFLE_RETURN_IF_ERROR(counters.error);
  Report(phase, counters, seconds, out, options.json);
  return Status();
}

}  // namespace

Status RunBench(const BenchOptions& options, std::ostream& out, std::ostream& err) {
  if (options.record_size < 0 || options.batch_size < 1 || options.concurrency < 1) {
    return Status(ErrorCode::kValidation,
                  "--record-size must be >= 0, --batch-size and --concurrency >= 1");
  }
  client::Client client({.endpoint = options.endpoint});
  if (options.create) {
    RIFFLE_RETURN_IF_ERROR(CreateStream(client, options, err));
  }
  std::atomic<int64_t> claimed{0};
  const Clock::time_point deadline = Clock::now() + options.duration;
  RIFFLE_RETURN_IF_ERROR(RunPhase(
      "write", options, options.concurrency,
      [&](int worker, PhaseCounters& counters) {
        WriteWorker(client, options, worker, claimed, deadline, counters);
      },
      out, err));
  if (!options.read) {
    return Status();
  }
  RIFFLE_ASSIGN_OR_RETURN(std::vector<client::Shard> shards, client.ListShards(options.stream));
  std::vector<std::string> shard_ids;
  for (const client::Shard& shard : shards) {
    shard_ids.push_back(shard.shard_id);
  }
  std::atomic<size_t> next_shard{0};
  const int readers = std::max(1, std::min(options.concurrency, static_cast<int>(shards.size())));
  return RunPhase(
      "read", options, readers,
      [&](int /*worker*/, PhaseCounters& counters) {
        ReadWorker(client, options, shard_ids, next_shard, counters);
      },
      out, err);
}

}  // namespace riffle::bench
