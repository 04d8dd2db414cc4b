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
  std::optional<int32_t> replication_factor;
};
Status CreateStream(client::Client& client, const Output& output, const CreateStreamArgs& args);
Status ListStreams(client::Client& client, const Output& output);
Status DescribeStream(client::Client& client, const Output& output, const std::string& stream);
// `enforce_consumer_deletion`: also delete a stream that has registered consumers.
Status DeleteStream(client::Client& client, const Output& output, const std::string& stream,
                    bool enforce_consumer_deletion = false);

struct SplitShardArgs {
  std::string stream;
  std::string shard_id;
  std::string new_starting_hash_key;  // decimal; the second child's first hash key
};
// Splits, then reports the two children (found by DescribeStream: parent == shard_id).
Status SplitShard(client::Client& client, const Output& output, const SplitShardArgs& args);

struct MergeShardsArgs {
  std::string stream;
  std::string shard_id;           // the lower hash keys
  std::string adjacent_shard_id;  // the hash keys right above
};
// Merges, then reports the child (found by DescribeStream: parent and adjacent parent).
Status MergeShards(client::Client& client, const Output& output, const MergeShardsArgs& args);

struct ScaleStreamArgs {
  std::string stream;
  int32_t shards = 0;  // target open shard count, UNIFORM_SCALING
};
Status ScaleStream(client::Client& client, const Output& output, const ScaleStreamArgs& args);

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
// Prints the records of every shard (or one). A shard is read only once all of its parents that
// are still listed have been read to their end, and a closed shard is followed into the
// children its last GetRecords names, so each partition key's records come out in order across
// splits and merges. Without `follow` it stops once each shard is read to its end; with it, it
// polls for new records (and children of closed shards) until `stop`, and waits out a server
// that is unavailable for a while (a restart) instead of failing. With `shard_id` only that
// shard is read, and no children.
Status Tail(client::Client& client, const Output& output, const TailArgs& args);

// One record as `tail` and `subscribe` print it: its data alone, or with `json` an object with
// the shard, sequence number, partition key, arrival time and data.
void PrintRecord(const Output& output, const std::string& shard_id, const client::Record& record);

// Enhanced fan-out consumers of a stream. `consumer` is a name, or a consumer ARN.
Status RegisterConsumer(client::Client& client, const Output& output, const std::string& stream,
                        const std::string& consumer_name);
Status ListConsumers(client::Client& client, const Output& output, const std::string& stream);
Status DescribeConsumer(client::Client& client, const Output& output, const std::string& stream,
                        const std::string& consumer);
Status DeregisterConsumer(client::Client& client, const Output& output, const std::string& stream,
                          const std::string& consumer);

struct SubscribeArgs {
  std::string stream;
  std::string consumer;               // a registered consumer's name, or its ARN
  std::string shard_id;
  std::string from = "trim-horizon";  // see ParseStartPosition
  // Set from a signal handler; subscribe cancels the call and returns OK soon after it turns true.
  const std::atomic<bool>* stop = nullptr;
};
// Prints the records the server pushes to `consumer` for one shard (SubscribeToShard), as `tail`
// prints them, until `stop` or the shard's end (then its children go to `err`).
Status Subscribe(client::Client& client, const Output& output, const SubscribeArgs& args);

// Each shard of a consumer group: its checkpoint, lag (records and ms behind the tip) and lease.
// With `json`, one object per shard with shard_id, checkpoint, lag_records, lag_ms, closed,
// finished, lease_owner, lease_expires and lease_counter.
Status DescribeGroup(client::Client& client, const Output& output, const std::string& stream,
                     const std::string& group);

// The nodes (addresses, controller, draining, shard count) and, per stream and shard, the owner,
// its epoch, where the shard is moving and whether the owner is alive. With `json`, one object
// with `nodes` and `shards` arrays.
Status ClusterStatus(client::Client& client, const Output& output);

}  // namespace riffle::cli
