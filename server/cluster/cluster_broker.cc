#include "server/cluster/cluster_broker.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <shared_mutex>
#include <vector>

#include "storage/format.h"

namespace riffle::cluster {

using broker::RequestContext;

namespace {

Status Unavailable(std::string message) {
  return Status(ErrorCode::kServiceUnavailable, std::move(message));
}

// Records of one forwarded subscription event: what one local event holds at most.
constexpr int64_t kForwardedEventRecords = 10000;

// A consumer's ARN is its stream's, then "/consumer/<name>:<registration time>".
broker::StreamRef StreamOfConsumer(std::string_view consumer_arn) {
  broker::StreamRef stream;
  stream.arn = std::string(consumer_arn.substr(0, consumer_arn.find("/consumer/")));
  return stream;
}

}  // namespace

ClusterBroker::ClusterBroker(broker::Broker& local, ClusterNode& node, storage::Store& store,
                             Follower& follower, ShardCloser& closer)
    : local_(local),
      node_(node),
      store_(store),
      follower_(follower),
      planner_(std::make_unique<ReplicaPlanner>(node)),
      mover_(std::make_unique<ShardMover>(
          node, store, [this](const std::string& node_id) { return Peer(node_id); },
          [this, &closer] {
            closer.ReopenAbandoned();
            planner_->Round();
          })),
      replicator_(std::make_unique<Replicator>(node, store, follower)),
      elector_(std::make_unique<Elector>(node)) {
  node_.SetTopologyListener([this] {
    mover_->Poke();
    replicator_->Poke();
    elector_->Poke();
  });
}

ClusterBroker::~ClusterBroker() { node_.SetTopologyListener(nullptr); }

std::shared_ptr<PeerClient> ClusterBroker::Peer(const std::string& node_id) {
  std::optional<Member> member = node_.view().FindMember(node_id);
  if (!member || member->grpc_addr.empty()) {
    return nullptr;
  }
  std::lock_guard lock(peers_mu_);
  PeerEntry& entry = peers_[node_id];
  if (!entry.client || entry.grpc_addr != member->grpc_addr) {
    entry.grpc_addr = member->grpc_addr;
    entry.client = std::make_shared<PeerClient>(
        NewPeerChannel(member->grpc_addr, node_.peer_security()),
        PeerClientOptions{.name = "node " + node_id + " (" + member->grpc_addr + ")"});
  }
  return entry.client;
}

StatusOr<ClusterBroker::Target> ClusterBroker::OwnerOf(const broker::ShardRef& shard,
                                                      Access access) {
  std::optional<Assignment> assignment = node_.view().AssignmentOf(shard.stream_id, shard.ordinal);
  const std::string shard_id = fmt::format("shardId-{:012}", shard.ordinal);
  if (!assignment) {
    return Unavailable(fmt::format("{} has no owner in the cluster yet; try again", shard_id));
  }
  if (assignment->node_id.empty()) {
    return Unavailable(fmt::format("{} is electing a new leader (epoch {}); retry in a moment",
                                   shard_id, assignment->epoch));
  }
  if (access == Access::kWrite && !assignment->moving_to.empty()) {
    return Unavailable(fmt::format("{} is moving from node {} to node {}; retry in a moment",
                                   shard_id, assignment->node_id, assignment->moving_to));
  }
  if (access == Access::kWrite && assignment->closing) {
    return Unavailable(fmt::format("{} is closing for a reshard; retry in a moment, and the "
                                   "record goes to the shard that takes its hash key",
                                   shard_id));
  }
  if (assignment->node_id == node_.node_id()) {
    if (!node_.membership().Serving()) {
      return Unavailable(fmt::format(
          "node {} owns {} but its cluster lease has lapsed; it serves again once it has "
          "registered anew",
          node_.node_id(), shard_id));
    }
    if (assignment->replicated() &&
        !replicator_->Leads(shard.stream_id, shard.ordinal, assignment->epoch)) {
      return Unavailable(fmt::format("node {} is taking over {} as its leader; retry in a moment",
                                     node_.node_id(), shard_id));
    }
    return Target{nullptr};
  }
  std::shared_ptr<PeerClient> peer = Peer(assignment->node_id);
  if (peer == nullptr) {
    return Unavailable(fmt::format("{} is on node {}, which is down; it is unavailable until "
                                   "that node returns",
                                   shard_id, assignment->node_id));
  }
  return Target{peer};
}

Status ClusterBroker::WriteLocally(const std::vector<broker::ShardRef>& shards,
                                   const std::function<void()>& write) {
  std::shared_lock gate(mover_->write_gate());
  // Judged again under the gate: a shard may have started moving or closing since the caller
  // looked.
  for (const broker::ShardRef& shard : shards) {
    RIFFLE_ASSIGN_OR_RETURN(Target owner, OwnerOf(shard, Access::kWrite));
    std::optional<Assignment> assignment =
        node_.view().AssignmentOf(shard.stream_id, shard.ordinal);
    if (owner.peer != nullptr || !assignment || !mover_->Writable(shard, assignment->epoch)) {
      return Unavailable(fmt::format("shardId-{:012} is {} on node {}; retry in a moment",
                                     shard.ordinal,
                                     assignment && assignment->closing ? "closing" : "moving away",
                                     node_.node_id()));
    }
    if (assignment->replicated()) {
      RIFFLE_RETURN_IF_ERROR(
          replicator_->Writable(shard.stream_id, shard.ordinal, assignment->epoch));
    }
  }
  write();
  return Status();
}

StatusOr<ClusterBroker::Target> ClusterBroker::Controller() {
  if (node_.membership().IsController()) {
    return Target{nullptr};
  }
  std::optional<std::string> controller = node_.view().Controller();
  std::shared_ptr<PeerClient> peer = controller ? Peer(*controller) : nullptr;
  if (peer == nullptr) {
    return Unavailable("the cluster has no controller at the moment; try again");
  }
  return Target{peer};
}

void ClusterBroker::CatchUp() {
  node_.CatchUp().IgnoreError();  // etcd unreachable: answer from what this node has
}

template <typename Result, typename Local, typename Remote>
Result ClusterBroker::CatalogWrite(Local local, Remote remote) {
  StatusOr<Target> controller = Controller();
  if (!controller.ok()) {
    return controller.status();
  }
  if (controller->peer == nullptr) {
    // A controller that just took over may not have applied its predecessor's last changes:
    // a change computed from a stale catalog (e.g. a reused stream id) must not be published.
    if (Status caught_up = node_.CatchUp(); !caught_up.ok()) {
      return caught_up;
    }
  }
  Result result = controller->peer == nullptr ? local(local_) : remote(*controller->peer);
  CatchUp();  // the caller's next read on this node sees its write
  return result;
}

#define RIFFLE_CATALOG_WRITE(Result, Method, ...)                                      \
  CatalogWrite<Result>([&](broker::Broker& b) { return b.Method(__VA_ARGS__); }, \
                       [&](PeerClient& p) { return p.Method(__VA_ARGS__); })

Status ClusterBroker::AdmitCall(const RequestContext& ctx, std::string_view operation,
                                std::string_view stream) {
  return local_.AdmitCall(ctx, operation, stream);
}

Status ClusterBroker::CreateStream(const RequestContext& ctx,
                                   const broker::CreateStreamRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, CreateStream, ctx, req);
}

Status ClusterBroker::DeleteStream(const RequestContext& ctx,
                                   const broker::DeleteStreamRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, DeleteStream, ctx, req);
}

Status ClusterBroker::IncreaseStreamRetentionPeriod(const RequestContext& ctx,
                                                    const broker::RetentionRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, IncreaseStreamRetentionPeriod, ctx, req);
}

Status ClusterBroker::DecreaseStreamRetentionPeriod(const RequestContext& ctx,
                                                    const broker::RetentionRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, DecreaseStreamRetentionPeriod, ctx, req);
}

Status ClusterBroker::AddTagsToStream(const RequestContext& ctx,
                                      const broker::AddTagsRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, AddTagsToStream, ctx, req);
}

Status ClusterBroker::RemoveTagsFromStream(const RequestContext& ctx,
                                           const broker::RemoveTagsRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, RemoveTagsFromStream, ctx, req);
}

StatusOr<broker::EnhancedMonitoringResult> ClusterBroker::EnableEnhancedMonitoring(
    const RequestContext& ctx, const broker::EnhancedMonitoringRequest& req) {
  return RIFFLE_CATALOG_WRITE(StatusOr<broker::EnhancedMonitoringResult>,
                              EnableEnhancedMonitoring, ctx, req);
}

StatusOr<broker::EnhancedMonitoringResult> ClusterBroker::DisableEnhancedMonitoring(
    const RequestContext& ctx, const broker::EnhancedMonitoringRequest& req) {
  return RIFFLE_CATALOG_WRITE(StatusOr<broker::EnhancedMonitoringResult>,
                              DisableEnhancedMonitoring, ctx, req);
}

Status ClusterBroker::StartStreamEncryption(const RequestContext& ctx,
                                            const broker::EncryptionRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, StartStreamEncryption, ctx, req);
}

Status ClusterBroker::StopStreamEncryption(const RequestContext& ctx,
                                           const broker::EncryptionRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, StopStreamEncryption, ctx, req);
}

Status ClusterBroker::UpdateStreamMode(const RequestContext& ctx,
                                       const broker::UpdateStreamModeRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, UpdateStreamMode, ctx, req);
}

Status ClusterBroker::UpdateMaxRecordSize(const RequestContext& ctx,
                                          const broker::UpdateMaxRecordSizeRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, UpdateMaxRecordSize, ctx, req);
}

StatusOr<broker::WarmThroughputResult> ClusterBroker::UpdateStreamWarmThroughput(
    const RequestContext& ctx, const broker::UpdateWarmThroughputRequest& req) {
  return RIFFLE_CATALOG_WRITE(StatusOr<broker::WarmThroughputResult>, UpdateStreamWarmThroughput,
                              ctx, req);
}

StatusOr<broker::AccountSettings> ClusterBroker::UpdateAccountSettings(
    const RequestContext& ctx, const broker::UpdateAccountSettingsRequest& req) {
  return RIFFLE_CATALOG_WRITE(StatusOr<broker::AccountSettings>, UpdateAccountSettings, ctx, req);
}

Status ClusterBroker::PutResourcePolicy(const RequestContext& ctx,
                                        const broker::ResourcePolicyRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, PutResourcePolicy, ctx, req);
}

Status ClusterBroker::DeleteResourcePolicy(const RequestContext& ctx,
                                           const broker::ResourcePolicyRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, DeleteResourcePolicy, ctx, req);
}

StatusOr<broker::ConsumerDescription> ClusterBroker::RegisterStreamConsumer(
    const RequestContext& ctx, const broker::RegisterConsumerRequest& req) {
  return RIFFLE_CATALOG_WRITE(StatusOr<broker::ConsumerDescription>, RegisterStreamConsumer, ctx,
                              req);
}

Status ClusterBroker::DeregisterStreamConsumer(const RequestContext& ctx,
                                               const broker::ConsumerRef& req) {
  return RIFFLE_CATALOG_WRITE(Status, DeregisterStreamConsumer, ctx, req);
}

Status ClusterBroker::SplitShard(const RequestContext& ctx, const broker::SplitShardRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, SplitShard, ctx, req);
}

Status ClusterBroker::MergeShards(const RequestContext& ctx,
                                  const broker::MergeShardsRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, MergeShards, ctx, req);
}

StatusOr<broker::UpdateShardCountResult> ClusterBroker::UpdateShardCount(
    const RequestContext& ctx, const broker::UpdateShardCountRequest& req) {
  return RIFFLE_CATALOG_WRITE(StatusOr<broker::UpdateShardCountResult>, UpdateShardCount, ctx,
                              req);
}

StatusOr<broker::StreamDescription> ClusterBroker::DescribeStream(
    const RequestContext& ctx, const broker::DescribeStreamRequest& req) {
  CatchUp();
  return local_.DescribeStream(ctx, req);
}

StatusOr<broker::StreamDescription> ClusterBroker::DescribeStreamSummary(
    const RequestContext& ctx, const broker::StreamRef& stream) {
  CatchUp();
  return local_.DescribeStreamSummary(ctx, stream);
}

StatusOr<broker::ListStreamsResult> ClusterBroker::ListStreams(
    const RequestContext& ctx, const broker::ListStreamsRequest& req) {
  CatchUp();
  return local_.ListStreams(ctx, req);
}

StatusOr<broker::ListShardsResult> ClusterBroker::ListShards(const RequestContext& ctx,
                                                             const broker::ListShardsRequest& req) {
  CatchUp();
  return local_.ListShards(ctx, req);
}

StatusOr<broker::ListTagsResult> ClusterBroker::ListTagsForStream(
    const RequestContext& ctx, const broker::ListTagsRequest& req) {
  CatchUp();
  return local_.ListTagsForStream(ctx, req);
}

StatusOr<broker::ConsumerDescription> ClusterBroker::DescribeStreamConsumer(
    const RequestContext& ctx, const broker::ConsumerRef& req) {
  CatchUp();
  return local_.DescribeStreamConsumer(ctx, req);
}

StatusOr<broker::ListConsumersResult> ClusterBroker::ListStreamConsumers(
    const RequestContext& ctx, const broker::ListConsumersRequest& req) {
  CatchUp();
  return local_.ListStreamConsumers(ctx, req);
}

StatusOr<broker::DescribeLimitsResult> ClusterBroker::DescribeLimits(const RequestContext& ctx) {
  return local_.DescribeLimits(ctx);
}

StatusOr<broker::AccountSettings> ClusterBroker::DescribeAccountSettings(
    const RequestContext& ctx) {
  CatchUp();
  return local_.DescribeAccountSettings(ctx);
}

StatusOr<std::string> ClusterBroker::GetResourcePolicy(const RequestContext& ctx,
                                                       const broker::ResourcePolicyRequest& req) {
  CatchUp();
  return local_.GetResourcePolicy(ctx, req);
}

std::vector<ClusterBroker::LedShard> ClusterBroker::LedShards() {
  std::vector<LedShard> out;
  StatusOr<broker::ClusterDescription> local = local_.DescribeCluster({});
  if (!local.ok()) {
    return out;
  }
  for (const broker::ClusterShardInfo& shard : local->shards) {
    std::optional<ShardReplication> replication =
        replicator_->Describe(shard.stream_id, shard.ordinal);
    if (replication) {
      out.push_back(
          {shard.stream_name, shard.shard_id, replication->voters, std::move(*replication)});
    }
  }
  return out;
}

StatusOr<broker::ClusterDescription> ClusterBroker::DescribeCluster(const RequestContext& ctx) {
  CatchUp();
  // The streams and shards of this node's catalog, with the ends of the shards it holds.
  RIFFLE_ASSIGN_OR_RETURN(broker::ClusterDescription out, local_.DescribeCluster(ctx));
  ClusterView& view = node_.view();
  const std::optional<std::string> controller = view.Controller();
  const std::map<std::pair<uint64_t, uint32_t>, Assignment> assignments = view.Assignments();
  std::map<std::string, int32_t> owned;
  for (const auto& [shard, assignment] : assignments) {
    ++owned[assignment.node_id];
  }
  out.mode = "cluster";
  out.cluster_name = node_.membership().options().cluster_name;
  out.node_id = node_.node_id();
  out.nodes.clear();
  std::set<std::string> alive;
  for (const Member& member : view.Members()) {  // by node id
    broker::ClusterNodeInfo& info = out.nodes.emplace_back();
    info.node_id = member.node_id;
    info.grpc_addr = member.grpc_addr;
    info.kinesis_addr = member.kinesis_addr;
    info.is_controller = controller == member.node_id;
    info.draining = member.draining;
    info.shards_owned = owned[member.node_id];
    alive.insert(member.node_id);
  }
  for (broker::ClusterShardInfo& shard : out.shards) {
    const auto it = assignments.find({shard.stream_id, shard.ordinal});
    if (it == assignments.end()) {
      shard.owner.clear();
      shard.owner_alive = false;
      shard.committed_end.reset();
      continue;
    }
    const Assignment& assignment = it->second;
    shard.owner = assignment.node_id;
    shard.epoch = assignment.epoch;
    shard.moving_to = assignment.moving_to;
    shard.owner_alive = alive.contains(assignment.node_id);
    if (assignment.node_id != out.node_id) {
      shard.committed_end.reset();  // only the owner holds the shard's records
    }
    shard.replicas = assignment.replicas;
    if (std::optional<InSync> in_sync = view.InSyncOf(shard.stream_id, shard.ordinal);
        in_sync && in_sync->epoch == assignment.epoch) {
      shard.in_sync = in_sync->replicas;
    }
  }
  return out;
}

void ClusterBroker::PutRecordAsync(const RequestContext& ctx, const broker::PutRecordRequest& req,
                                   std::function<void(StatusOr<broker::PutRecordResult>)> done) {
  std::optional<broker::ShardRef> shard =
      local_.RouteRecord(ctx, req.stream, req.partition_key, req.explicit_hash_key);
  if (!shard) {
    local_.PutRecordAsync(ctx, req, std::move(done));  // it answers with the exact error
    return;
  }
  StatusOr<Target> owner = OwnerOf(*shard, Access::kWrite);
  if (!owner.ok()) {
    done(owner.status());
  } else if (owner->peer != nullptr) {
    owner->peer->PutRecordAsync(ctx, req, std::move(done));
  } else if (Status refused = WriteLocally(
                 {*shard}, [&] { local_.PutRecordAsync(ctx, req, std::move(done)); });
             !refused.ok()) {
    done(refused);
  }
}

void ClusterBroker::PutRecordsAsync(
    const RequestContext& ctx, const broker::PutRecordsRequest& req,
    std::function<void(StatusOr<broker::PutRecordsResult>)> done) {
  std::map<std::string, std::vector<size_t>> by_owner;
  std::vector<broker::ShardRef> shard_of;
  bool routed = req.records.has_value() && !req.records->empty();
  for (size_t i = 0; routed && i < req.records->size(); ++i) {
    const broker::PutRecordsEntry& entry = (*req.records)[i];
    std::optional<broker::ShardRef> shard =
        local_.RouteRecord(ctx, req.stream, entry.partition_key, entry.explicit_hash_key);
    if (!shard) {
      routed = false;
      break;
    }
    shard_of.push_back(*shard);
    std::optional<Assignment> assignment =
        node_.view().AssignmentOf(shard->stream_id, shard->ordinal);
    by_owner[assignment ? assignment->node_id : std::string()].push_back(i);
  }
  if (!routed) {
    local_.PutRecordsAsync(ctx, req, std::move(done));  // it answers with the exact error
    return;
  }
  PutRecordsSplit(ctx, req, std::move(by_owner), shard_of, std::move(done));
}

void ClusterBroker::PutRecordsSplit(
    const RequestContext& ctx, const broker::PutRecordsRequest& req,
    std::map<std::string, std::vector<size_t>> by_owner,
    const std::vector<broker::ShardRef>& shard_of,
    std::function<void(StatusOr<broker::PutRecordsResult>)> done) {
  // Each owner's part goes as one PutRecords; the answers merge back in request order.
  struct Merge {
    std::mutex mu;
    broker::PutRecordsResult result;
    size_t parts_left = 0;
    std::function<void(StatusOr<broker::PutRecordsResult>)> done;
  };
  auto merge = std::make_shared<Merge>();
  merge->result.records.resize(req.records->size());
  merge->parts_left = by_owner.size();
  merge->done = std::move(done);
  for (auto& [owner_id, indices] : by_owner) {
    broker::PutRecordsRequest part{req.stream, std::vector<broker::PutRecordsEntry>()};
    for (size_t i : indices) {
      part.records->push_back((*req.records)[i]);
    }
    auto finish = [merge, indices](StatusOr<broker::PutRecordsResult> answer) {
      std::lock_guard lock(merge->mu);
      for (size_t k = 0; k < indices.size(); ++k) {
        broker::PutRecordsResultEntry& entry = merge->result.records[indices[k]];
        if (answer.ok() && k < answer->records.size()) {
          entry = std::move(answer->records[k]);
        } else {
          entry.error_code = "InternalFailure";
          entry.error_message = answer.ok() ? "Internal service failure."
                                            : answer.status().message();
        }
        if (entry.error_code) {
          ++merge->result.failed_record_count;
        }
      }
      if (answer.ok()) {
        merge->result.encryption_type = answer->encryption_type;
      }
      if (--merge->parts_left == 0) {
        if (merge->result.encryption_type.empty()) {
          merge->result.encryption_type = "NONE";
        }
        merge->done(std::move(merge->result));
      }
    };
    StatusOr<Target> owner =
        owner_id.empty() ? StatusOr<Target>(Unavailable("a shard has no owner yet; try again"))
                         : StatusOr<Target>(Target{});
    if (owner.ok()) {
      std::vector<broker::ShardRef> shards;
      for (size_t i : indices) {
        if (std::find(shards.begin(), shards.end(), shard_of[i]) == shards.end()) {
          shards.push_back(shard_of[i]);
        }
      }
      owner = OwnerOf(shards.front(), Access::kWrite);
      if (owner.ok() && owner->peer == nullptr) {
        // Every shard of the part is checked: one closing or moving refuses the part.
        Status refused =
            WriteLocally(shards, [&] { local_.PutRecordsAsync(ctx, part, std::move(finish)); });
        if (!refused.ok()) {
          owner = refused;  // `finish` was not moved from: WriteLocally did not run it
        } else {
          continue;
        }
      }
    }
    if (!owner.ok()) {
      finish(owner.status());
    } else {
      owner->peer->PutRecordsAsync(ctx, part, std::move(finish));
    }
  }
}

StatusOr<std::string> ClusterBroker::GetShardIterator(const RequestContext& ctx,
                                                      const broker::GetShardIteratorRequest& req) {
  std::optional<broker::ShardRef> shard = local_.RouteShardId(ctx, req.stream, req.shard_id);
  if (!shard) {
    CatchUp();  // the stream may have been created a moment ago through another node
    shard = local_.RouteShardId(ctx, req.stream, req.shard_id);
  }
  if (!shard) {
    return local_.GetShardIterator(ctx, req);
  }
  RIFFLE_ASSIGN_OR_RETURN(Target owner, OwnerOf(*shard, Access::kRead));
  return owner.peer == nullptr ? local_.GetShardIterator(ctx, req)
                               : owner.peer->GetShardIterator(ctx, req);
}

StatusOr<broker::GetRecordsResult> ClusterBroker::GetRecords(const RequestContext& ctx,
                                                             const broker::GetRecordsRequest& req) {
  std::optional<broker::ShardRef> shard = local_.RouteIterator(req.shard_iterator);
  if (!shard) {
    return local_.GetRecords(ctx, req);
  }
  RIFFLE_ASSIGN_OR_RETURN(Target owner, OwnerOf(*shard, Access::kRead));
  return owner.peer == nullptr ? local_.GetRecords(ctx, req) : owner.peer->GetRecords(ctx, req);
}

bool ClusterBroker::ServesSubscription(const broker::ShardRef& shard) {
  std::optional<Assignment> assignment = node_.view().AssignmentOf(shard.stream_id, shard.ordinal);
  return assignment && assignment->replicated() && node_.membership().Serving() &&
         std::find(assignment->replicas.begin(), assignment->replicas.end(), node_.node_id()) !=
             assignment->replicas.end() &&
         follower_.Serves(shard.stream_id, shard.ordinal);
}

StatusOr<broker::Subscription> ClusterBroker::Subscribe(const RequestContext& ctx,
                                                        const broker::SubscribeRequest& req) {
  const broker::StreamRef stream = StreamOfConsumer(req.consumer_arn.value_or(""));
  std::optional<broker::ShardRef> shard = local_.RouteShardId(ctx, stream, req.shard_id);
  std::string forwarded_iterator;
  if (shard && !ServesSubscription(*shard)) {
    RIFFLE_ASSIGN_OR_RETURN(Target owner, OwnerOf(*shard, Access::kRead));
    if (owner.peer != nullptr) {
      // The owner resolves the starting position: only it knows the shard's ends and times.
      // Asked first, so that a refusal leaves no subscription recorded here.
      broker::GetShardIteratorRequest start;
      start.stream = stream;
      start.shard_id = req.shard_id;
      if (req.starting_position) {
        start.shard_iterator_type = req.starting_position->type;
        start.starting_sequence_number = req.starting_position->sequence_number;
        start.timestamp_ms = req.starting_position->timestamp_ms;
      }
      RIFFLE_ASSIGN_OR_RETURN(forwarded_iterator, owner.peer->GetShardIterator(ctx, start));
    }
  }
  RIFFLE_ASSIGN_OR_RETURN(broker::Subscription subscription, local_.Subscribe(ctx, req));
  if (!forwarded_iterator.empty()) {
    subscription.forwarded_iterator = std::move(forwarded_iterator);
    if (std::optional<std::string> continuation = ContinuationOf(subscription.forwarded_iterator)) {
      subscription.continuation_sequence_number = std::move(*continuation);
    }
  }
  return subscription;
}

StatusOr<broker::SubscriptionEvent> ClusterBroker::NextEvent(const RequestContext& ctx,
                                                             broker::Subscription& subscription) {
  if (!subscription.forwarded_iterator.empty()) {
    return NextForwardedEvent(ctx, subscription);
  }
  const broker::ShardRef shard{subscription.stream_id, subscription.shard_ordinal};
  if (ServesSubscription(shard)) {
    return local_.NextEvent(ctx, subscription);
  }
  RIFFLE_ASSIGN_OR_RETURN(Target owner, OwnerOf(shard, Access::kRead));
  if (owner.peer != nullptr) {
    return Unavailable("this node no longer owns the subscription's shard; subscribe again");
  }
  return local_.NextEvent(ctx, subscription);
}

StatusOr<broker::SubscriptionEvent> ClusterBroker::NextForwardedEvent(
    const RequestContext& ctx, broker::Subscription& subscription) {
  const broker::ShardRef shard{subscription.stream_id, subscription.shard_ordinal};
  // A deregistered consumer ends its subscriptions (a consumer registered again under the
  // same name has another ARN).
  broker::ConsumerRef consumer;
  consumer.consumer_arn = subscription.consumer_arn;
  RIFFLE_RETURN_IF_ERROR(local_.DescribeStreamConsumer(ctx, consumer).status());
  RIFFLE_ASSIGN_OR_RETURN(Target owner, OwnerOf(shard, Access::kRead));
  broker::GetRecordsRequest read;
  read.shard_iterator = subscription.forwarded_iterator;
  read.limit = kForwardedEventRecords;
  // The shard may have moved here meanwhile: iterators read on any node.
  const auto read_once = [&] {
    return owner.peer != nullptr ? owner.peer->GetRecords(ctx, read) : local_.GetRecords(ctx, read);
  };
  StatusOr<broker::GetRecordsResult> read_result = read_once();
  if (read_result.status().code() == ErrorCode::kExpiredIterator) {
    // Not read for the iterator's lifetime (a gRPC subscriber that stopped taking events):
    // go on from the continuation.
    broker::GetShardIteratorRequest resume;
    resume.stream = StreamOfConsumer(subscription.consumer_arn);
    resume.shard_id = storage::FormatShardId(subscription.shard_ordinal);
    resume.shard_iterator_type = "AFTER_SEQUENCE_NUMBER";
    resume.starting_sequence_number = subscription.continuation_sequence_number;
    StatusOr<std::string> resumed = owner.peer != nullptr
                                        ? owner.peer->GetShardIterator(ctx, resume)
                                        : local_.GetShardIterator(ctx, resume);
    RIFFLE_RETURN_IF_ERROR(resumed.status());
    read.shard_iterator = *resumed;
    read_result = read_once();
  }
  broker::SubscriptionEvent event;
  if (read_result.status().code() == ErrorCode::kProvisionedThroughputExceeded) {
    // The shard's GetRecords quota, which pollers share: nothing new this time.
    event.continuation_sequence_number = subscription.continuation_sequence_number;
    return event;
  }
  RIFFLE_ASSIGN_OR_RETURN(broker::GetRecordsResult got, std::move(read_result));
  event.records = std::move(got.records);
  event.millis_behind_latest = got.millis_behind_latest;
  if (!got.next_shard_iterator) {  // past the end of a closed shard
    event.shard_ended = true;
    event.child_shards = std::move(got.child_shards);
    return event;
  }
  subscription.forwarded_iterator = std::move(*got.next_shard_iterator);
  if (std::optional<std::string> continuation = ContinuationOf(subscription.forwarded_iterator)) {
    subscription.continuation_sequence_number = std::move(*continuation);
  } else if (!event.records.empty()) {
    subscription.continuation_sequence_number = event.records.back().sequence_number;
  }
  event.continuation_sequence_number = subscription.continuation_sequence_number;
  return event;
}

bool ClusterBroker::NotifyWhenReadable(const broker::Subscription& subscription,
                                       std::function<void()> wake) {
  if (!subscription.forwarded_iterator.empty()) {
    // The owner's appends are not seen here: read again in a moment.
    forwarded_reads_.RunAfter(kForwardedReadInterval, std::move(wake));
    return true;
  }
  return local_.NotifyWhenReadable(subscription, std::move(wake));
}

void ClusterBroker::TrimExpiredRecords() { local_.TrimExpiredRecords(); }

Status ClusterBroker::ApplyCatalogChange(const storage::CatalogChange& change) {
  return local_.ApplyCatalogChange(change);
}

// Consumer groups are catalog entries: the controller changes them, as every catalog entry, and
// every node reads its copy. Checkpoints and leases are catalog writes too, so a runner's
// checkpoint costs one etcd transaction.
Status ClusterBroker::CreateConsumerGroup(const RequestContext& ctx,
                                          const broker::CreateGroupRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, CreateConsumerGroup, ctx, req);
}

Status ClusterBroker::DeleteConsumerGroup(const RequestContext& ctx, const broker::GroupRef& req) {
  return RIFFLE_CATALOG_WRITE(Status, DeleteConsumerGroup, ctx, req);
}

StatusOr<broker::GroupDescription> ClusterBroker::DescribeConsumerGroup(
    const RequestContext& ctx, const broker::GroupRef& req) {
  CatchUp();  // a read follows every acknowledged checkpoint, made through any node
  return local_.DescribeConsumerGroup(ctx, req);
}

StatusOr<broker::ShardLease> ClusterBroker::LeaseShard(const RequestContext& ctx,
                                                       const broker::LeaseShardRequest& req) {
  return RIFFLE_CATALOG_WRITE(StatusOr<broker::ShardLease>, LeaseShard, ctx, req);
}

Status ClusterBroker::ReleaseShardLease(const RequestContext& ctx,
                                        const broker::ReleaseLeaseRequest& req) {
  return RIFFLE_CATALOG_WRITE(Status, ReleaseShardLease, ctx, req);
}

// Only a shard's leader knows where the shard ends, and only the controller records
// checkpoints: a checkpoint goes to the leader first, which refuses one past the end, and from
// there to the controller; two forwards at most. A node that is not where a forwarded
// checkpoint should be (views of leadership or control that disagree for a moment) answers
// ServiceUnavailable rather than forward it again, so a checkpoint never loops between nodes.
Status ClusterBroker::Checkpoint(const RequestContext& ctx, const broker::CheckpointRequest& req) {
  std::optional<broker::ShardRef> shard = local_.RouteShardId(ctx, req.group.stream, req.shard_id);
  std::optional<Assignment> assignment =
      shard ? node_.view().AssignmentOf(shard->stream_id, shard->ordinal) : std::nullopt;
  const bool leads = assignment && assignment->node_id == node_.node_id();
  if (shard && leads) {
    RIFFLE_RETURN_IF_ERROR(CheckWithinShard(*shard, req));
  }
  if (node_.membership().IsController()) {
    return local_.Checkpoint(ctx, req);
  }
  if (shard && !leads && ctx.hops == 0) {
    RIFFLE_ASSIGN_OR_RETURN(Target owner, OwnerOf(*shard, Access::kRead));
    if (owner.peer != nullptr) {
      return owner.peer->Checkpoint(ctx, req);
    }
  }
  if (ctx.hops >= 2 || (ctx.hops == 1 && !leads)) {
    return Unavailable(fmt::format("node {} is neither the controller nor the leader of {} "
                                   "any more; retry the checkpoint",
                                   node_.node_id(), req.shard_id.value_or("the shard")));
  }
  return RIFFLE_CATALOG_WRITE(Status, Checkpoint, ctx, req);
}

Status ClusterBroker::CheckWithinShard(const broker::ShardRef& shard,
                                       const broker::CheckpointRequest& req) {
  std::optional<storage::SequencePosition> position =
      storage::ParseSequenceNumber(req.sequence_number.value_or(""));
  if (!position || position->shard_ordinal != shard.ordinal) {
    return Status();  // the controller answers with the exact error
  }
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<storage::ShardLog> log,
                          store_.OpenShard(shard.stream_id, shard.ordinal));
  if (position->position > log->committed_end()) {
    return broker::CheckpointPastShardEnd(*req.sequence_number, *req.shard_id);
  }
  return Status();
}

#undef RIFFLE_CATALOG_WRITE

// Every node reports the lag of the shards it leads, so that each shard has one series in the
// cluster, from the copy that knows the shard's end.
bool ClusterBroker::LeadsHere(const std::string& stream_name, const std::string& shard_id) const {
  const RequestContext any_account;
  std::optional<broker::ShardRef> shard = local_.RouteShardId(
      any_account, broker::StreamRef{.name = stream_name, .arn = {}}, shard_id);
  std::optional<Assignment> assignment =
      shard ? node_.view().AssignmentOf(shard->stream_id, shard->ordinal) : std::nullopt;
  return assignment && assignment->node_id == node_.node_id();
}

std::vector<broker::GroupLag> ClusterBroker::ConsumerGroupLags() {
  std::vector<broker::GroupLag> lags = local_.ConsumerGroupLags();
  std::erase_if(lags, [&](const broker::GroupLag& lag) {
    return !LeadsHere(lag.stream_name, lag.shard_id);
  });
  return lags;
}

// GetRecords is served by the leader, so only its iterator readers are current. A subscription
// may be served by any replica, which reports its consumer's position (and forgets it once the
// consumer has gone on elsewhere: BrokerOptions::consumer_position_ttl_ms).
std::vector<broker::ReaderLag> ClusterBroker::ReaderLags() {
  std::vector<broker::ReaderLag> lags = local_.ReaderLags();
  std::erase_if(lags, [&](const broker::ReaderLag& lag) {
    return lag.consumer.empty() && !LeadsHere(lag.stream_name, lag.shard_id);
  });
  return lags;
}

std::optional<broker::ShardRef> ClusterBroker::RouteRecord(
    const RequestContext& ctx, const broker::StreamRef& stream,
    const std::optional<std::string>& partition_key,
    const std::optional<std::string>& explicit_hash_key) const {
  return local_.RouteRecord(ctx, stream, partition_key, explicit_hash_key);
}

std::optional<broker::ShardRef> ClusterBroker::RouteShardId(
    const RequestContext& ctx, const broker::StreamRef& stream,
    const std::optional<std::string>& shard_id) const {
  return local_.RouteShardId(ctx, stream, shard_id);
}

std::optional<broker::ShardRef> ClusterBroker::RouteIterator(
    const std::optional<std::string>& iterator) const {
  return local_.RouteIterator(iterator);
}

}  // namespace riffle::cluster
