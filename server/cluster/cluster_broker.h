// The broker the front ends see in a cluster (docs/cluster.md §8): any node answers any
// request. It runs a request on this node's broker when this node may (catalog reads; data of
// the shards it owns, while its lease holds; catalog writes when it is the controller), and
// otherwise forwards it to the node that may, through that node's gRPC API.
//
// Shards move between nodes with their records (ShardMover): a moving shard takes no writes
// until it has arrived (ServiceUnavailable: retry), and serves reads at its source meanwhile.
// A replicated shard (docs/cluster.md §5) is served by its leader; a write there is answered
// once a majority of its replicas has it on disk (Replicator), and when the leader dies the
// controller elects another (Elector).
//
// SubscribeToShard is served by any node holding a replica of the shard, from its own copy up
// to what the leader last told it is committed (a few ms behind the leader under load, at most
// a heartbeat when idle). On a node without a replica it is forwarded: the owner resolves the
// starting position and serves GetRecords with the iterator each read returns, every
// kForwardedReadInterval when it had nothing new, and this node sends the events (the reads
// block the transport's thread that paces the subscription, like other forwarded calls).
// Resharding runs on the controller, which seals the parents at their leaders first
// (ShardCloser). A PutRecords whose records go to shards on several nodes is split by owner and
// is atomic per owner only.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "server/broker/broker.h"
#include "server/cluster/cluster_node.h"
#include "server/cluster/elector.h"
#include "server/cluster/follower.h"
#include "server/cluster/peer_client.h"
#include "server/cluster/replica_planner.h"
#include "server/cluster/replicator.h"
#include "server/cluster/shard_closer.h"
#include "server/cluster/shard_mover.h"
#include "server/cluster/wake_timer.h"

namespace riffle::cluster {

class ClusterBroker final : public broker::Broker {
 public:
  // How soon a forwarded subscription reads again after a read that found nothing new.
  // Each read counts against the shard's GetRecords quota (5 a second) on the owner.
  static constexpr std::chrono::milliseconds kForwardedReadInterval{500};

  // Borrows all five, which must outlive it; `closer` is the shard sealer of `local`'s options.
  // Runs this node's ShardMover, Replicator (the shards it leads) and Elector (failover, while
  // it is the controller).
  ClusterBroker(broker::Broker& local, ClusterNode& node, storage::Store& store,
                Follower& follower, ShardCloser& closer);
  ~ClusterBroker() override;

  // This node's count: each node of a cluster admits the calls it is sent.
  Status AdmitCall(const broker::RequestContext& ctx, std::string_view operation,
                   std::string_view stream) override;
  Status CreateStream(const broker::RequestContext& ctx,
                      const broker::CreateStreamRequest& req) override;
  Status DeleteStream(const broker::RequestContext& ctx,
                      const broker::DeleteStreamRequest& req) override;
  StatusOr<broker::StreamDescription> DescribeStream(
      const broker::RequestContext& ctx, const broker::DescribeStreamRequest& req) override;
  StatusOr<broker::StreamDescription> DescribeStreamSummary(
      const broker::RequestContext& ctx, const broker::StreamRef& stream) override;
  StatusOr<broker::ListStreamsResult> ListStreams(const broker::RequestContext& ctx,
                                                  const broker::ListStreamsRequest& req) override;
  StatusOr<broker::ListShardsResult> ListShards(const broker::RequestContext& ctx,
                                                const broker::ListShardsRequest& req) override;
  void PutRecordAsync(const broker::RequestContext& ctx, const broker::PutRecordRequest& req,
                      std::function<void(StatusOr<broker::PutRecordResult>)> done) override;
  void PutRecordsAsync(const broker::RequestContext& ctx, const broker::PutRecordsRequest& req,
                       std::function<void(StatusOr<broker::PutRecordsResult>)> done) override;
  StatusOr<std::string> GetShardIterator(const broker::RequestContext& ctx,
                                         const broker::GetShardIteratorRequest& req) override;
  StatusOr<broker::GetRecordsResult> GetRecords(const broker::RequestContext& ctx,
                                                const broker::GetRecordsRequest& req) override;
  Status IncreaseStreamRetentionPeriod(const broker::RequestContext& ctx,
                                       const broker::RetentionRequest& req) override;
  Status DecreaseStreamRetentionPeriod(const broker::RequestContext& ctx,
                                       const broker::RetentionRequest& req) override;
  Status AddTagsToStream(const broker::RequestContext& ctx,
                         const broker::AddTagsRequest& req) override;
  Status RemoveTagsFromStream(const broker::RequestContext& ctx,
                              const broker::RemoveTagsRequest& req) override;
  StatusOr<broker::ListTagsResult> ListTagsForStream(const broker::RequestContext& ctx,
                                                     const broker::ListTagsRequest& req) override;
  StatusOr<broker::EnhancedMonitoringResult> EnableEnhancedMonitoring(
      const broker::RequestContext& ctx, const broker::EnhancedMonitoringRequest& req) override;
  StatusOr<broker::EnhancedMonitoringResult> DisableEnhancedMonitoring(
      const broker::RequestContext& ctx, const broker::EnhancedMonitoringRequest& req) override;
  Status StartStreamEncryption(const broker::RequestContext& ctx,
                               const broker::EncryptionRequest& req) override;
  Status StopStreamEncryption(const broker::RequestContext& ctx,
                              const broker::EncryptionRequest& req) override;
  Status UpdateStreamMode(const broker::RequestContext& ctx,
                          const broker::UpdateStreamModeRequest& req) override;
  Status UpdateMaxRecordSize(const broker::RequestContext& ctx,
                             const broker::UpdateMaxRecordSizeRequest& req) override;
  StatusOr<broker::DescribeLimitsResult> DescribeLimits(const broker::RequestContext& ctx) override;
  StatusOr<broker::WarmThroughputResult> UpdateStreamWarmThroughput(
      const broker::RequestContext& ctx, const broker::UpdateWarmThroughputRequest& req) override;
  StatusOr<broker::AccountSettings> DescribeAccountSettings(
      const broker::RequestContext& ctx) override;
  StatusOr<broker::AccountSettings> UpdateAccountSettings(
      const broker::RequestContext& ctx, const broker::UpdateAccountSettingsRequest& req) override;
  Status PutResourcePolicy(const broker::RequestContext& ctx,
                           const broker::ResourcePolicyRequest& req) override;
  StatusOr<std::string> GetResourcePolicy(const broker::RequestContext& ctx,
                                          const broker::ResourcePolicyRequest& req) override;
  Status DeleteResourcePolicy(const broker::RequestContext& ctx,
                              const broker::ResourcePolicyRequest& req) override;
  // The members and every shard's owner from this node's view of etcd; committed ends of the
  // shards this node owns.
  StatusOr<broker::ClusterDescription> DescribeCluster(const broker::RequestContext& ctx) override;
  Status SplitShard(const broker::RequestContext& ctx,
                    const broker::SplitShardRequest& req) override;
  Status MergeShards(const broker::RequestContext& ctx,
                     const broker::MergeShardsRequest& req) override;
  StatusOr<broker::UpdateShardCountResult> UpdateShardCount(
      const broker::RequestContext& ctx, const broker::UpdateShardCountRequest& req) override;
  StatusOr<broker::ConsumerDescription> RegisterStreamConsumer(
      const broker::RequestContext& ctx, const broker::RegisterConsumerRequest& req) override;
  Status DeregisterStreamConsumer(const broker::RequestContext& ctx,
                                  const broker::ConsumerRef& req) override;
  StatusOr<broker::ConsumerDescription> DescribeStreamConsumer(
      const broker::RequestContext& ctx, const broker::ConsumerRef& req) override;
  StatusOr<broker::ListConsumersResult> ListStreamConsumers(
      const broker::RequestContext& ctx, const broker::ListConsumersRequest& req) override;
  StatusOr<broker::Subscription> Subscribe(const broker::RequestContext& ctx,
                                           const broker::SubscribeRequest& req) override;
  StatusOr<broker::SubscriptionEvent> NextEvent(const broker::RequestContext& ctx,
                                                broker::Subscription& subscription) override;
  bool NotifyWhenReadable(const broker::Subscription& subscription,
                          std::function<void()> wake) override;
  void TrimExpiredRecords() override;
  void LogThrottling() override { local_.LogThrottling(); }
  Status ApplyCatalogChange(const storage::CatalogChange& change) override;
  Status CreateConsumerGroup(const broker::RequestContext& ctx,
                             const broker::CreateGroupRequest& req) override;
  Status DeleteConsumerGroup(const broker::RequestContext& ctx,
                             const broker::GroupRef& req) override;
  StatusOr<broker::GroupDescription> DescribeConsumerGroup(const broker::RequestContext& ctx,
                                                           const broker::GroupRef& req) override;
  StatusOr<broker::ShardLease> LeaseShard(const broker::RequestContext& ctx,
                                          const broker::LeaseShardRequest& req) override;
  Status ReleaseShardLease(const broker::RequestContext& ctx,
                           const broker::ReleaseLeaseRequest& req) override;
  Status Checkpoint(const broker::RequestContext& ctx,
                    const broker::CheckpointRequest& req) override;
  std::vector<broker::GroupLag> ConsumerGroupLags() override;
  std::vector<broker::ReaderLag> ReaderLags() override;
  // This node's copies: leader and follower copies alike take disk.
  std::vector<broker::StreamDisk> StreamDiskUsage() override { return local_.StreamDiskUsage(); }
  std::optional<broker::ShardRef> RouteRecord(
      const broker::RequestContext& ctx, const broker::StreamRef& stream,
      const std::optional<std::string>& partition_key,
      const std::optional<std::string>& explicit_hash_key) const override;
  std::optional<broker::ShardRef> RouteShardId(
      const broker::RequestContext& ctx, const broker::StreamRef& stream,
      const std::optional<std::string>& shard_id) const override;
  std::optional<broker::ShardRef> RouteIterator(
      const std::optional<std::string>& iterator) const override;
  std::optional<std::string> ContinuationOf(const std::string& iterator) const override {
    return local_.ContinuationOf(iterator);
  }

  // The replicated shards this node leads, by stream name and shard id, for metrics.
  struct LedShard {
    std::string stream_name;
    std::string shard_id;
    size_t replicas = 0;
    ShardReplication replication;
  };
  std::vector<LedShard> LedShards();
  // Leaders this node has elected as the controller since it started.
  int64_t elections() const { return elector_->elections(); }

 private:
  // Who runs a request for one shard: this node (peer == nullptr) or a peer; or why nobody can.
  struct Target {
    std::shared_ptr<PeerClient> peer;  // shared: a peer's address may change meanwhile
  };
  enum class Access { kRead, kWrite };
  // This node leads the shard (its metrics report the shard's lags).
  bool LeadsHere(const std::string& stream_name, const std::string& shard_id) const;
  StatusOr<Target> OwnerOf(const broker::ShardRef& shard, Access access);
  // Runs `write` (which must queue its records before it returns) if this node may write
  // every one of `shards` now, with the mover's gate held so no seal comes in between; else
  // the error of the first it may not.
  Status WriteLocally(const std::vector<broker::ShardRef>& shards,
                      const std::function<void()>& write);
  StatusOr<Target> Controller();
  std::shared_ptr<PeerClient> Peer(const std::string& node_id);
  // Runs a catalog write where it may run: here on the controller, else on the controller.
  template <typename Result, typename Local, typename Remote>
  Result CatalogWrite(Local local, Remote remote);
  // Brings this node's catalog up to date first, so a read follows every acknowledged write.
  void CatchUp();
  // Whether this node serves a subscription to `shard` from its own replica: it holds one and
  // its leader has told it what is committed (the only records a subscriber sees there).
  bool ServesSubscription(const broker::ShardRef& shard);
  // The next event of a subscription forwarded to the shard's owner (Subscription::
  // forwarded_iterator): one GetRecords there.
  StatusOr<broker::SubscriptionEvent> NextForwardedEvent(const broker::RequestContext& ctx,
                                                         broker::Subscription& subscription);
  // On the shard's leader: refuses a checkpoint past the end of the shard's records.
  Status CheckWithinShard(const broker::ShardRef& shard, const broker::CheckpointRequest& req);
  // `by_owner`: record indices by the node owning their shard; `shard_of`: each record's shard.
  void PutRecordsSplit(const broker::RequestContext& ctx, const broker::PutRecordsRequest& req,
                       std::map<std::string, std::vector<size_t>> by_owner,
                       const std::vector<broker::ShardRef>& shard_of,
                       std::function<void(StatusOr<broker::PutRecordsResult>)> done);

  broker::Broker& local_;
  ClusterNode& node_;
  storage::Store& store_;
  Follower& follower_;

  std::mutex peers_mu_;
  struct PeerEntry {
    std::string grpc_addr;
    std::shared_ptr<PeerClient> client;
  };
  std::map<std::string, PeerEntry> peers_;  // guarded by peers_mu_; by node id

  // Declared (so built) before the mover, whose thread runs the planner on the controller.
  std::unique_ptr<ReplicaPlanner> planner_;
  std::unique_ptr<ShardMover> mover_;  // its thread calls Peer()
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<Elector> elector_;
  WakeTimer forwarded_reads_;  // wakes forwarded subscriptions to read again
};

}  // namespace riffle::cluster
