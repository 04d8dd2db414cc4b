// DescribeCluster on a single node: one node, "local", that owns every shard of every stream
// at epoch 0 and knows each shard's committed end. In a cluster, the cluster broker starts from
// this answer (stream names, shard ids, the ends of the shards this node owns) and fills in the
// members and owners from its view of etcd.
#include "server/broker/broker_impl.h"

namespace riffle::broker {

StatusOr<ClusterDescription> BrokerImpl::DescribeCluster(const RequestContext&) {
  ClusterDescription out;
  out.mode = "single-node";
  out.node_id = "local";
  ClusterNodeInfo& node = out.nodes.emplace_back();
  node.node_id = "local";
  node.is_controller = true;
  const std::vector<std::shared_ptr<Stream>> streams = LiveStreams();
  for (const std::shared_ptr<Stream>& stream : streams) {  // streams_ is by name
    const storage::StreamMeta meta = stream->Snapshot();
    for (const std::shared_ptr<Shard>& shard : stream->shards()->all) {  // by ordinal
      ClusterShardInfo& info = out.shards.emplace_back();
      info.stream_name = meta.name;
      info.shard_id = shard->shard_id;
      info.stream_id = stream->id;
      info.ordinal = shard->meta.ordinal;
      info.owner = node.node_id;
      info.owner_alive = true;
      if (shard->log != nullptr) {
        info.committed_end = shard->log->committed_end();
      }
    }
  }
  node.shards_owned = static_cast<int32_t>(out.shards.size());
  return out;
}

}  // namespace riffle::broker
