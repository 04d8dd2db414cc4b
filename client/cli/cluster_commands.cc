// riffle cluster status: the nodes, the controller and every shard's owner, replicas and
// in-sync replicas, as one node sees them.
#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "client/cli/commands.h"
#include "client/util/json_line.h"

namespace riffle::cli {
namespace {

using tools::JsonObject;

// Prints rows as columns two spaces apart, each as wide as its widest cell.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const std::vector<std::string>& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const std::vector<std::string>& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(widths[i] - row[i].size() + 2, ' ');
      }
    }
    out << line << "\n";
  }
}

std::string OrDash(const std::string& value) {
  return value.empty() ? "-" : value;
}

std::string YesNo(bool value) {
  return value ? "yes" : "no";
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

std::string StringArray(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) {
    quoted.push_back(tools::JsonQuote(item));
  }
  return tools::JsonArray(quoted);
}

}  // namespace

Status ClusterStatus(client::Client& client, const Output& output) {
  RIFFLE_ASSIGN_OR_RETURN(client::ClusterStatus status, client.DescribeCluster());
  if (output.json) {
    std::vector<std::string> nodes;
    for (const client::ClusterNode& node : status.nodes) {
      nodes.push_back(JsonObject()
                          .AddString("node_id", node.node_id)
                          .AddString("grpc_addr", node.grpc_addr)
                          .AddString("kinesis_addr", node.kinesis_addr)
                          .AddBool("is_controller", node.is_controller)
                          .AddBool("draining", node.draining)
                          .AddInt("shards_owned", node.shards_owned)
                          .Build());
    }
    std::vector<std::string> shards;
    for (const client::ClusterShard& shard : status.shards) {
      JsonObject json;
      json.AddString("stream_name", shard.stream_name)
          .AddString("shard_id", shard.shard_id)
          .AddString("owner", shard.owner)
          .AddInt("epoch", static_cast<int64_t>(shard.epoch))
          .AddString("moving_to", shard.moving_to)
          .AddBool("owner_alive", shard.owner_alive);
      if (shard.committed_end) {
        json.AddInt("committed_end", static_cast<int64_t>(*shard.committed_end));
      }
      json.AddRaw("replicas", StringArray(shard.replicas))
          .AddRaw("in_sync", StringArray(shard.in_sync));
      shards.push_back(json.Build());
    }
    output.out << JsonObject()
                      .AddString("mode", status.mode)
                      .AddString("cluster_name", status.cluster_name)
                      .AddString("node_id", status.node_id)
                      .AddRaw("nodes", tools::JsonArray(nodes))
                      .AddRaw("shards", tools::JsonArray(shards))
                      .Build()
               << "\n";
    return Status();
  }
  if (status.mode == "cluster") {
    output.out << "Cluster " << status.cluster_name << ", " << status.nodes.size()
               << " live node(s), as node " << status.node_id << " sees it\n\n";
  } else {
    output.out << "Single node (not a cluster)\n\n";
  }
  std::vector<std::vector<std::string>> node_rows = {
      {"NODE", "GRPC", "KINESIS", "CONTROLLER", "DRAINING", "SHARDS"}};
  for (const client::ClusterNode& node : status.nodes) {
    node_rows.push_back({node.node_id, OrDash(node.grpc_addr), OrDash(node.kinesis_addr),
                         node.is_controller ? "*" : "", YesNo(node.draining),
                         std::to_string(node.shards_owned)});
  }
  PrintTable(output.out, node_rows);
  if (status.shards.empty()) {
    output.out << "\nNo streams.\n";
    return Status();
  }
  output.out << "\n";
  std::vector<std::vector<std::string>> shard_rows = {
      {"STREAM", "SHARD", "OWNER", "EPOCH", "MOVING_TO", "ALIVE", "END", "REPLICAS", "IN_SYNC"}};
  for (const client::ClusterShard& shard : status.shards) {
    shard_rows.push_back({shard.stream_name, shard.shard_id, OrDash(shard.owner),
                          std::to_string(shard.epoch), OrDash(shard.moving_to),
                          YesNo(shard.owner_alive),
                          shard.committed_end ? std::to_string(*shard.committed_end) : "-",
                          OrDash(Joined(shard.replicas)), OrDash(Joined(shard.in_sync))});
  }
  PrintTable(output.out, shard_rows);
  return Status();
}

}  // namespace riffle::cli
