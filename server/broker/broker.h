// The broker: every operation of the Kinesis data model, transport-free. Both front ends (gRPC
// and the Kinesis HTTP API) call these functions and only translate requests, results and the
// Status codes; validation, routing, limits, iterators and error messages live here.
//
// Thread-safe: any number of threads may call any operation concurrently. Borrows the Store and
// Clock given at construction; both must outlive the Broker.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "server/broker/observer.h"
#include "server/broker/shard_sealer.h"
#include "server/broker/types.h"

namespace riffle::storage {
class Store;
struct CatalogChange;
}

namespace riffle::broker {

struct BrokerOptions {
  // Enforce the per-shard quotas on PROVISIONED streams (1 MiB/s and 1000 records/s in, 2 MiB/s
  // and 5 GetRecords calls/s out) and AWS's call rates (GetShardIterator 5/s per shard,
  // ListShards 1000/s per stream, the per-account control-plane rates of AdmitCall). Off: nothing
  // is ever throttled (load tests, crash tests).
  bool shard_quotas = true;
  // DescribeLimits.ShardLimit; CreateStream fails with LimitExceeded beyond it.
  int32_t shard_limit = 10000;
  // Upper bound for the sum of record sizes in one PutRecords call.
  int64_t max_put_records_bytes = 10 * 1024 * 1024;
  // How long a shard iterator stays valid after it is issued (Kinesis: 300 s). Tests shorten it.
  int64_t iterator_ttl_ms = 300'000;
  // Whether this node knows where every shard ends, to refuse a checkpoint past a shard's end.
  // In a cluster only a shard's leader does: the cluster broker checks checkpoints there, and
  // the controller, which records them, checks their shard and order only.
  bool shard_ends_known = true;
  // A registered consumer's position counts in the metrics for this long after its last event
  // (0: while the consumer is registered). In a cluster any replica may serve a subscription, so
  // the node it left must stop reporting a position that no longer moves.
  int64_t consumer_position_ttl_ms = 0;
  // How a reshard closes its parents when another node may hold their records (a cluster);
  // null: this broker holds them and closes them itself. Must outlive the Broker.
  ShardSealer* shard_sealer = nullptr;
};

// The answer to a checkpoint at a sequence number the shard has not given out.
Status CheckpointPastShardEnd(std::string_view sequence_number, std::string_view shard_id);

class Broker {
 public:
  // Loads the catalog from `store`. `observer` (may be null) must outlive the Broker.
  static StatusOr<std::unique_ptr<Broker>> Open(storage::Store& store, const Clock& clock,
                                                BrokerOptions options,
                                                Observer* observer = nullptr);
  virtual ~Broker() = default;

  // Whether the caller may make one more `operation` call now (AWS's per-account rates, off
  // with BrokerOptions::shard_quotas); front ends ask before each call of their clients.
  // `stream` is the stream the call names, if any.
  virtual Status AdmitCall(const RequestContext& ctx, std::string_view operation,
                           std::string_view stream) = 0;

  virtual Status CreateStream(const RequestContext& ctx, const CreateStreamRequest& req) = 0;
  virtual Status DeleteStream(const RequestContext& ctx, const DeleteStreamRequest& req) = 0;
  virtual StatusOr<StreamDescription> DescribeStream(const RequestContext& ctx,
                                                     const DescribeStreamRequest& req) = 0;
  // The summary: a StreamDescription without shards.
  virtual StatusOr<StreamDescription> DescribeStreamSummary(const RequestContext& ctx,
                                                            const StreamRef& stream) = 0;
  virtual StatusOr<ListStreamsResult> ListStreams(const RequestContext& ctx,
                                                  const ListStreamsRequest& req) = 0;
  virtual StatusOr<ListShardsResult> ListShards(const RequestContext& ctx,
                                                const ListShardsRequest& req) = 0;
  // Writes go through the storage's commit pipeline: the asynchronous forms return at once and
  // run `done` exactly once, when the records are durable (per the fsync mode) and readable, on
  // the pipeline's thread, or on the caller's when the request fails before it is queued. `done`
  // must not block. The request need not outlive the call. The synchronous forms wait for it.
  virtual void PutRecordAsync(const RequestContext& ctx, const PutRecordRequest& req,
                              std::function<void(StatusOr<PutRecordResult>)> done) = 0;
  virtual void PutRecordsAsync(const RequestContext& ctx, const PutRecordsRequest& req,
                               std::function<void(StatusOr<PutRecordsResult>)> done) = 0;
  StatusOr<PutRecordResult> PutRecord(const RequestContext& ctx, const PutRecordRequest& req);
  StatusOr<PutRecordsResult> PutRecords(const RequestContext& ctx, const PutRecordsRequest& req);
  virtual StatusOr<std::string> GetShardIterator(const RequestContext& ctx,
                                                 const GetShardIteratorRequest& req) = 0;
  virtual StatusOr<GetRecordsResult> GetRecords(const RequestContext& ctx,
                                                const GetRecordsRequest& req) = 0;
  virtual Status IncreaseStreamRetentionPeriod(const RequestContext& ctx,
                                               const RetentionRequest& req) = 0;
  virtual Status DecreaseStreamRetentionPeriod(const RequestContext& ctx,
                                               const RetentionRequest& req) = 0;
  virtual Status AddTagsToStream(const RequestContext& ctx, const AddTagsRequest& req) = 0;
  virtual Status RemoveTagsFromStream(const RequestContext& ctx, const RemoveTagsRequest& req) = 0;
  virtual StatusOr<ListTagsResult> ListTagsForStream(const RequestContext& ctx,
                                                     const ListTagsRequest& req) = 0;
  virtual StatusOr<EnhancedMonitoringResult> EnableEnhancedMonitoring(
      const RequestContext& ctx, const EnhancedMonitoringRequest& req) = 0;
  virtual StatusOr<EnhancedMonitoringResult> DisableEnhancedMonitoring(
      const RequestContext& ctx, const EnhancedMonitoringRequest& req) = 0;
  virtual Status StartStreamEncryption(const RequestContext& ctx, const EncryptionRequest& req) = 0;
  virtual Status StopStreamEncryption(const RequestContext& ctx, const EncryptionRequest& req) = 0;
  virtual Status UpdateStreamMode(const RequestContext& ctx, const UpdateStreamModeRequest& req) = 0;
  // The largest record (data + partition key) the stream takes, 1 MiB to 10 MiB.
  virtual Status UpdateMaxRecordSize(const RequestContext& ctx,
                                     const UpdateMaxRecordSizeRequest& req) = 0;
  virtual StatusOr<DescribeLimitsResult> DescribeLimits(const RequestContext& ctx) = 0;
  // An on-demand stream's warm throughput target; needs the account's billing commitment.
  virtual StatusOr<WarmThroughputResult> UpdateStreamWarmThroughput(
      const RequestContext& ctx, const UpdateWarmThroughputRequest& req) = 0;
  // The caller's account settings (docs/aws-compatibility.md says what they change in Riffle).
  virtual StatusOr<AccountSettings> DescribeAccountSettings(const RequestContext& ctx) = 0;
  virtual StatusOr<AccountSettings> UpdateAccountSettings(
      const RequestContext& ctx, const UpdateAccountSettingsRequest& req) = 0;
  // Resource policies of streams and consumers: validated, stored and returned verbatim.
  virtual Status PutResourcePolicy(const RequestContext& ctx,
                                   const ResourcePolicyRequest& req) = 0;
  // "{}" when the resource has no policy.
  virtual StatusOr<std::string> GetResourcePolicy(const RequestContext& ctx,
                                                  const ResourcePolicyRequest& req) = 0;
  virtual Status DeleteResourcePolicy(const RequestContext& ctx,
                                      const ResourcePolicyRequest& req) = 0;
  // The nodes serving the streams and the owner of every shard, as this node knows them. A single
  // node is one node, "local", that owns every shard at epoch 0.
  virtual StatusOr<ClusterDescription> DescribeCluster(const RequestContext& ctx) = 0;

  // Resharding (PROVISIONED streams). Each is one atomic catalog change: parents close at their
  // last record, children take the writes from then on.
  virtual Status SplitShard(const RequestContext& ctx, const SplitShardRequest& req) = 0;
  virtual Status MergeShards(const RequestContext& ctx, const MergeShardsRequest& req) = 0;
  virtual StatusOr<UpdateShardCountResult> UpdateShardCount(
      const RequestContext& ctx, const UpdateShardCountRequest& req) = 0;

  // Enhanced fan-out consumers and their push subscriptions.
  virtual StatusOr<ConsumerDescription> RegisterStreamConsumer(
      const RequestContext& ctx, const RegisterConsumerRequest& req) = 0;
  virtual Status DeregisterStreamConsumer(const RequestContext& ctx, const ConsumerRef& req) = 0;
  virtual StatusOr<ConsumerDescription> DescribeStreamConsumer(const RequestContext& ctx,
                                                               const ConsumerRef& req) = 0;
  virtual StatusOr<ListConsumersResult> ListStreamConsumers(const RequestContext& ctx,
                                                            const ListConsumersRequest& req) = 0;
  // Validates a SubscribeToShard call and returns where it starts. The transport then calls
  // NextEvent() until it reports the shard's end or the subscription's time is up.
  virtual StatusOr<Subscription> Subscribe(const RequestContext& ctx,
                                           const SubscribeRequest& req) = 0;
  // The records after `subscription` (at most ~1 MiB), advancing it. An empty event is a
  // heartbeat. Never blocks on new data.
  virtual StatusOr<SubscriptionEvent> NextEvent(const RequestContext& ctx,
                                                Subscription& subscription) = 0;
  // So that a subscription wakes on its own shard's appends instead of polling: runs `wake`
  // once, on the committing thread, when records past the subscription's position become
  // readable. Returns false, keeping nothing, when NextEvent() has something to say already
  // (records, the shard's end, or an error). `wake` must be cheap and must not block; whatever
  // it refers to must stay valid, or `wake` must check (e.g. through a weak_ptr).
  virtual bool NotifyWhenReadable(const Subscription& subscription,
                                  std::function<void()> wake) = 0;

  // Consumer groups (docs/triggers.md). A group is created once per stream, then workers lease
  // its shards and checkpoint under their lease. An unknown group is ResourceNotFound; a lease
  // held by another worker, a child shard whose parents are not finished, and a checkpoint under
  // a lease that was taken are ResourceInUse.
  virtual Status CreateConsumerGroup(const RequestContext& ctx, const CreateGroupRequest& req) = 0;
  virtual Status DeleteConsumerGroup(const RequestContext& ctx, const GroupRef& req) = 0;
  virtual StatusOr<GroupDescription> DescribeConsumerGroup(const RequestContext& ctx,
                                                           const GroupRef& req) = 0;
  // Grants the lease, or renews it for its holder (same owner, lease unexpired); with `steal`,
  // also takes it from another live holder. A grant to a new holder raises the lease counter,
  // which fences the previous one.
  virtual StatusOr<ShardLease> LeaseShard(const RequestContext& ctx,
                                          const LeaseShardRequest& req) = 0;
  // Ends the lease at once, so another worker need not wait for it to expire.
  virtual Status ReleaseShardLease(const RequestContext& ctx, const ReleaseLeaseRequest& req) = 0;
  // Moves the checkpoint forward, if the lease counter is still the shard's.
  virtual Status Checkpoint(const RequestContext& ctx, const CheckpointRequest& req) = 0;
  // The lag of every group in every shard, for the metrics (read at each scrape).
  virtual std::vector<GroupLag> ConsumerGroupLags() = 0;
  // How far behind the readers of every shard are (read at each scrape): per shard the
  // furthest-behind iterator reader, and each registered consumer.
  virtual std::vector<ReaderLag> ReaderLags() = 0;
  // Every stream's table-file bytes on this node (read at each scrape).
  virtual std::vector<StreamDisk> StreamDiskUsage() = 0;

  // Drops records older than each stream's retention period. Called by the trimmer job.
  virtual void TrimExpiredRecords() = 0;
  // Logs, per stream, the writes and reads its quotas refused since the last call: a summary,
  // not a line per refusal. Called by riffled every minute.
  virtual void LogThrottling() = 0;
  // Where a request would go, for a cluster's router: the shard a record is routed to, the
  // shard a ShardId names, the shard an iterator reads. nullopt when the request is invalid in
  // any way: the operation itself then answers with the exact error.
  virtual std::optional<ShardRef> RouteRecord(const RequestContext& ctx, const StreamRef& stream,
                                              const std::optional<std::string>& partition_key,
                                              const std::optional<std::string>& explicit_hash_key)
      const = 0;
  virtual std::optional<ShardRef> RouteShardId(const RequestContext& ctx, const StreamRef& stream,
                                               const std::optional<std::string>& shard_id) const = 0;
  virtual std::optional<ShardRef> RouteIterator(const std::optional<std::string>& iterator)
      const = 0;
  // The sequence number after which `iterator` reads (a subscription's continuation sequence
  // number at that iterator); nullopt if it is no valid iterator.
  virtual std::optional<std::string> ContinuationOf(const std::string& iterator) const = 0;
  // In a cluster: applies a catalog change that another node (the controller) made, to this
  // node's store and streams, as if this broker had made it: streams appear, change and go.
  virtual Status ApplyCatalogChange(const storage::CatalogChange& change) = 0;
};

}  // namespace riffle::broker
