// riffle-bench: a load generator for riffled's gRPC API. Writes records with PutRecords (or
// PutRecord when batch_size is 1) from several threads, for a number of records or a duration,
// then optionally reads the stream back with GetRecords. Reports records/s, MB/s and the
// latency quantiles of the calls; progress once a second on stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "common/status.h"

namespace riffle::bench {

struct BenchOptions {
  std::string endpoint = "127.0.0.1:50051";
  std::string stream = "riffle-bench";
  // With create: a PROVISIONED stream of this many shards; unset: an ON_DEMAND stream.
  std::optional<int32_t> shards;
  bool create = false;    // create the stream first (an existing one is used as it is)
  int record_size = 100;  // bytes of data per record
  int batch_size = 100;   // records per PutRecords; 1 sends PutRecord
  int concurrency = 4;    // writer (and reader) threads, one call in flight each
  int64_t records = 0;    // stop after this many records; 0: run for `duration`
  std::chrono::seconds duration{10};
  int partition_keys = 1000;  // distinct keys, picked at random per record
  bool read = false;          // then read every shard from TRIM_HORIZON
  bool json = false;          // results as one JSON object per phase
};

// Runs the benchmark, writing results to `out` and progress to `err`. Fails on the first error
// that retrying cannot fix (stream missing, server gone).
Status RunBench(const BenchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace riffle::bench
