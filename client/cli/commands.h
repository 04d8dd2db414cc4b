// The subcommands of the `riffle` CLI, apart from flag parsing (main.cc, the only CLI11 user).
// Each writes its results to `out`: human-readable text, or with `json` one JSON object per line.
// A failure comes back as a Status for main.cc to print as `riffle: <KinesisCode>: <message>`.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "common/status.h"
#include "riffle/client.h"

namespace riffle::cli {

struct Output {
  std::ostream& out;  // results
  std::ostream& err;  // progress
  bool json = false;
};

struct CreateStreamArgs {
  std::string stream;
  std::optional<int32_t> shards;
  bool on_demand = false;
};
Status CreateStream(client::Client& client, const Output& output, const CreateStreamArgs& args);
Status ListStreams(client::Client& client, const Output& output);
Status DescribeStream(client::Client& client, const Output& output, const std::string& stream);
Status DeleteStream(client::Client& client, const Output& output, const std::string& stream);

struct ProduceArgs {
  std::string stream;
  std::string partition_key;
  int input_fd = 0;            // one record per line; read to the end
  bool show_progress = false;  // a progress line on `err`, for long inputs on a terminal
};
// Sends the lines in PutRecords calls of up to 500 records, retrying throttled entries, and
// reports shard and sequence number per record (json) or a summary.
Status Produce(client::Client& client, const Output& output, const ProduceArgs& args);

struct TailArgs {
  std::string stream;
  std::string from = "trim-horizon";  // see ParseStartPosition
  std::string shard_id;               // empty: every shard
  bool follow = false;
  // Set from a signal handler; tail returns OK soon after it turns true.
  const std::atomic<bool>* stop = nullptr;
};
// Prints the records of every shard (or one). Without `follow` it stops once each shard is read
// to its end; with it, it polls for new records (and children of closed shards) until `stop`,
// and waits out a server that is unavailable for a while (a restart) instead of failing.
Status Tail(client::Client& client, const Output& output, const TailArgs& args);

}  // namespace riffle::cli
