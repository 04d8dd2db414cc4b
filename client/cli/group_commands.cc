// `riffle group ...`: consumer groups (checkpoints, leases and lag per shard) over the gRPC API.
#include <ostream>

#include <fmt/format.h>

#include "client/cli/commands.h"
#include "client/cli/start_position.h"
#include "client/util/json_line.h"

namespace riffle::cli {

Status DescribeGroup(client::Client& client, const Output& output, const std::string& stream,
                     const std::string& group_name) {
  RIFFLE_ASSIGN_OR_RETURN(client::ConsumerGroup group,
                          client.DescribeConsumerGroup(stream, group_name));
  if (output.json) {
    for (const client::GroupShard& shard : group.shards) {
      output.out << tools::JsonObject()
                        .AddString("shard_id", shard.shard_id)
                        .AddString("checkpoint", shard.checkpoint)
                        .AddInt("lag_records", static_cast<int64_t>(shard.lag_records))
                        .AddInt("lag_ms", shard.lag_ms)
                        .AddBool("closed", shard.closed)
                        .AddBool("finished", shard.finished)
                        .AddString("lease_owner", shard.lease_owner)
                        .AddString("lease_expires",
                                   shard.lease_expires_ms == 0
                                       ? ""
                                       : FormatRfc3339Millis(shard.lease_expires_ms))
                        .AddInt("lease_counter", static_cast<int64_t>(shard.lease_counter))
                        .Build()
                 << "\n";
    }
    return Status();
  }
  output.out << fmt::format("group {} of stream {}, created {}\n", group.group_name,
                            group.stream_name, FormatRfc3339Millis(group.creation_time_ms));
  output.out << fmt::format("{:<22}{:<44}{:>12}{:>12}  {}\n", "SHARD", "CHECKPOINT", "LAG",
                            "LAG_MS", "LEASE");
  for (const client::GroupShard& shard : group.shards) {
    const std::string state = shard.finished ? "finished" : shard.closed ? "closed" : "";
    output.out << fmt::format(
        "{:<22}{:<44}{:>12}{:>12}  {}{}\n", shard.shard_id,
        shard.checkpoint.empty() ? "-" : shard.checkpoint, shard.lag_records, shard.lag_ms,
        shard.lease_owner.empty() ? "-"
                                  : fmt::format("{} #{}", shard.lease_owner, shard.lease_counter),
        state.empty() ? "" : " (" + state + ")");
  }
  return Status();
}

}  // namespace riffle::cli
