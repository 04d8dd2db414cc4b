#include <algorithm>
#include <ostream>
#include <vector>

#include "client/cli/commands.h"
#include "client/cli/start_position.h"
#include "client/util/json_line.h"

namespace riffle::cli {
namespace {

using tools::JsonObject;

std::string ModeName(const std::optional<client::StreamMode>& mode) {
  if (!mode) {
    return "UNKNOWN";
  }
  return *mode == client::StreamMode::kOnDemand ? "ON_DEMAND" : "PROVISIONED";
}

std::string ShardJson(const client::Shard& shard) {
  JsonObject json;
  json.AddString("shard_id", shard.shard_id);
  if (!shard.parent_shard_id.empty()) {
    json.AddString("parent_shard_id", shard.parent_shard_id);
  }
  if (!shard.adjacent_parent_shard_id.empty()) {
    json.AddString("adjacent_parent_shard_id", shard.adjacent_parent_shard_id);
  }
  json.AddString("starting_hash_key", shard.hash_key_range.starting_hash_key)
      .AddString("ending_hash_key", shard.hash_key_range.ending_hash_key)
      .AddString("starting_sequence_number", shard.starting_sequence_number);
  if (!shard.ending_sequence_number.empty()) {
    json.AddString("ending_sequence_number", shard.ending_sequence_number);
  }
  return json.Build();
}

// The shards of `stream` whose parents are exactly `parent` (and `adjacent_parent`, empty for a
// split): the children a reshard just made, as a new parent is never reused.
StatusOr<std::vector<std::string>> ChildrenOf(client::Client& client, const std::string& stream,
                                              const std::string& parent,
                                              const std::string& adjacent_parent) {
  RIFFLE_ASSIGN_OR_RETURN(client::StreamDescription description, client.DescribeStream(stream));
  std::vector<std::string> children;
  for (const client::Shard& shard : description.shards) {
    if (shard.parent_shard_id == parent && shard.adjacent_parent_shard_id == adjacent_parent) {
      children.push_back(shard.shard_id);
    }
  }
  return children;
}

std::string JoinIds(const std::vector<std::string>& ids, const char* separator) {
  std::string out;
  for (const std::string& id : ids) {
    out += (out.empty() ? "" : separator) + id;
  }
  return out;
}

std::vector<std::string> JsonStrings(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    out.push_back(tools::JsonQuote(value));
  }
  return out;
}

}  // namespace

Status CreateStream(client::Client& client, const Output& output, const CreateStreamArgs& args) {
  client::CreateStreamOptions options;
  options.shard_count = args.shards;
  options.replication_factor = args.replication_factor;
  if (args.on_demand) {
    options.mode = client::StreamMode::kOnDemand;
  }
  RIFFLE_RETURN_IF_ERROR(client.CreateStream(args.stream, options));
  if (output.json) {
    output.out
        << JsonObject().AddString("stream_name", args.stream).AddBool("created", true).Build()
        << "\n";
  } else {
    output.out << "created stream " << args.stream << "\n";
  }
  return Status();
}

Status ListStreams(client::Client& client, const Output& output) {
  RIFFLE_ASSIGN_OR_RETURN(std::vector<client::StreamSummary> streams, client.ListStreams());
  if (output.json) {
    for (const client::StreamSummary& stream : streams) {
      output.out << JsonObject()
                        .AddString("stream_name", stream.stream_name)
                        .AddString("stream_arn", stream.stream_arn)
                        .AddString("stream_status", stream.stream_status)
                        .AddString("stream_mode", ModeName(stream.mode))
                        .AddString("created", FormatRfc3339Millis(stream.creation_time_ms))
                        .Build()
                 << "\n";
    }
    return Status();
  }
  size_t name_width = 4;
  for (const client::StreamSummary& stream : streams) {
    name_width = std::max(name_width, stream.stream_name.size());
  }
  const auto row = [&](const std::string& name, const std::string& status, const std::string& mode,
                       const std::string& created) {
    output.out << name << std::string(name_width - name.size() + 2, ' ') << status
               << std::string(status.size() < 10 ? 10 - status.size() : 1, ' ') << mode
               << std::string(mode.size() < 13 ? 13 - mode.size() : 1, ' ') << created << "\n";
  };
  row("NAME", "STATUS", "MODE", "CREATED");
  for (const client::StreamSummary& stream : streams) {
    row(stream.stream_name, stream.stream_status, ModeName(stream.mode),
        FormatRfc3339Millis(stream.creation_time_ms));
  }
  return Status();
}

Status DescribeStream(client::Client& client, const Output& output, const std::string& stream) {
  RIFFLE_ASSIGN_OR_RETURN(client::StreamDescription description, client.DescribeStream(stream));
  if (output.json) {
    std::vector<std::string> shards;
    for (const client::Shard& shard : description.shards) {
      shards.push_back(ShardJson(shard));
    }
    output.out << JsonObject()
                      .AddString("stream_name", description.stream_name)
                      .AddString("stream_arn", description.stream_arn)
                      .AddString("stream_status", description.stream_status)
                      .AddString("stream_mode", ModeName(description.mode))
                      .AddInt("retention_period_hours", description.retention_period_hours)
                      .AddString("created", FormatRfc3339Millis(description.creation_time_ms))
                      .AddString("encryption_type", description.encryption_type)
                      .AddInt("open_shard_count", description.open_shard_count)
                      .AddRaw("shards", tools::JsonArray(shards))
                      .Build()
               << "\n";
    return Status();
  }
  output.out << "Stream:      " << description.stream_name << "\n"
             << "ARN:         " << description.stream_arn << "\n"
             << "Status:      " << description.stream_status << "\n"
             << "Mode:        " << ModeName(description.mode) << "\n"
             << "Retention:   " << description.retention_period_hours << " hours\n"
             << "Created:     " << FormatRfc3339Millis(description.creation_time_ms) << "\n"
             << "Encryption:  " << description.encryption_type << "\n"
             << "Shards:      " << description.open_shard_count << " open, "
             << description.shards.size() << " in all\n";
  for (const client::Shard& shard : description.shards) {
    output.out << "  " << shard.shard_id << "  "
               << (shard.ending_sequence_number.empty() ? "OPEN  " : "CLOSED") << "  hash keys "
               << shard.hash_key_range.starting_hash_key << ".."
               << shard.hash_key_range.ending_hash_key;
    if (!shard.parent_shard_id.empty()) {
      output.out << "  parent " << shard.parent_shard_id;
    }
    if (!shard.adjacent_parent_shard_id.empty()) {
      output.out << " + " << shard.adjacent_parent_shard_id;
    }
    output.out << "\n";
  }
  return Status();
}

Status SplitShard(client::Client& client, const Output& output, const SplitShardArgs& args) {
  RIFFLE_RETURN_IF_ERROR(client.SplitShard(args.stream, args.shard_id, args.new_starting_hash_key));
  RIFFLE_ASSIGN_OR_RETURN(std::vector<std::string> children,
                          ChildrenOf(client, args.stream, args.shard_id, ""));
  if (output.json) {
    output.out << JsonObject()
                      .AddString("stream_name", args.stream)
                      .AddString("shard_to_split", args.shard_id)
                      .AddString("new_starting_hash_key", args.new_starting_hash_key)
                      .AddRaw("child_shards", tools::JsonArray(JsonStrings(children)))
                      .Build()
               << "\n";
  } else {
    output.out << "split " << args.shard_id << " of stream " << args.stream << " at hash key "
               << args.new_starting_hash_key << " into " << JoinIds(children, " and ") << "\n";
  }
  return Status();
}

Status MergeShards(client::Client& client, const Output& output, const MergeShardsArgs& args) {
  RIFFLE_RETURN_IF_ERROR(client.MergeShards(args.stream, args.shard_id, args.adjacent_shard_id));
  RIFFLE_ASSIGN_OR_RETURN(std::vector<std::string> children,
                          ChildrenOf(client, args.stream, args.shard_id, args.adjacent_shard_id));
  if (output.json) {
    output.out << JsonObject()
                      .AddString("stream_name", args.stream)
                      .AddString("shard_to_merge", args.shard_id)
                      .AddString("adjacent_shard_to_merge", args.adjacent_shard_id)
                      .AddRaw("child_shards", tools::JsonArray(JsonStrings(children)))
                      .Build()
               << "\n";
  } else {
    output.out << "merged " << args.shard_id << " and " << args.adjacent_shard_id
               << " of stream " << args.stream << " into " << JoinIds(children, " and ") << "\n";
  }
  return Status();
}

Status ScaleStream(client::Client& client, const Output& output, const ScaleStreamArgs& args) {
  RIFFLE_ASSIGN_OR_RETURN(client::UpdateShardCountResult result,
                          client.UpdateShardCount(args.stream, args.shards));
  if (output.json) {
    output.out << JsonObject()
                      .AddString("stream_name", result.stream_name)
                      .AddString("stream_arn", result.stream_arn)
                      .AddInt("current_shard_count", result.current_shard_count)
                      .AddInt("target_shard_count", result.target_shard_count)
                      .Build()
               << "\n";
  } else {
    output.out << "scaled stream " << result.stream_name << " from "
               << result.current_shard_count << " to " << result.target_shard_count
               << " open shards\n";
  }
  return Status();
}

Status DeleteStream(client::Client& client, const Output& output, const std::string& stream,
                    bool enforce_consumer_deletion) {
  RIFFLE_RETURN_IF_ERROR(
      client.DeleteStream(stream, {.enforce_consumer_deletion = enforce_consumer_deletion}));
  if (output.json) {
    output.out << JsonObject().AddString("stream_name", stream).AddBool("deleted", true).Build()
               << "\n";
  } else {
    output.out << "deleted stream " << stream << "\n";
  }
  return Status();
}

}  // namespace riffle::cli
