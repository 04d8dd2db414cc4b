// riffle-bench: load generator for riffled's gRPC API; see bench.h.
//
//   riffle-bench --stream bench --create --shards 4 --batch-size 100 --concurrency 8 --read
#include <iostream>

#include <CLI/CLI.hpp>

#include "client/bench/bench.h"

int main(int argc, char** argv) {
  riffle::bench::BenchOptions options;
  CLI::App app{"riffle-bench: write (and read) load against riffled's gRPC API"};
  int shards = 0;
  int duration_seconds = static_cast<int>(options.duration.count());
  app.add_option("--endpoint", options.endpoint, "riffled gRPC address host:port")
      ->capture_default_str();
  app.add_option("--stream", options.stream, "stream to write to")->capture_default_str();
  CLI::Option* shards_option = app.add_option(
      "--shards", shards, "with --create: a PROVISIONED stream of N shards (default ON_DEMAND)");
  app.add_flag("--create", options.create, "create the stream first (reuse it if it exists)");
  app.add_option("--record-size", options.record_size, "bytes of data per record")
      ->capture_default_str();
  app.add_option("--batch-size", options.batch_size, "records per PutRecords; 1 = PutRecord")
      ->capture_default_str()
      ->check(CLI::Range(1, 500));
  app.add_option("--concurrency", options.concurrency, "writer threads, one call in flight each")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI::Option* records_option =
      app.add_option("--records", options.records, "stop after this many records");
  app.add_option("--duration", duration_seconds, "seconds to write, unless --records is given")
      ->capture_default_str()
      ->excludes(records_option);
  app.add_option("--partition-keys", options.partition_keys, "distinct partition keys")
      ->capture_default_str();
  app.add_flag("--read", options.read, "then read every shard from TRIM_HORIZON");
  app.add_flag("--json", options.json, "results as one JSON object per phase");
  CLI11_PARSE(app, argc, argv);

  if (shards_option->count() > 0) {
    options.shards = shards;
  }
  options.duration = std::chrono::seconds(duration_seconds);
  riffle::Status status = riffle::bench::RunBench(options, std::cout, std::cerr);
  if (!status.ok()) {
    std::cerr << "riffle-bench: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}
