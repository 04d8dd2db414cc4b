// Internal to the broker: the in-memory state behind Broker and the class that implements it.
// The control plane is in stream_registry.cc (loading, lookup, publishing a stream's meta),
// stream_admin.cc (create, delete), stream_listing.cc (describe, list), stream_settings.cc
// (tags, monitoring, encryption, mode, record size), retention.cc and reshard.cc; the data
// plane in records.cc; consumers and subscriptions in consumers.cc; a cluster's hooks in
// catalog_mirror.cc and routing.cc.
//
// Locks, outermost first: a thread that holds one takes only locks below it in this list.
//   BrokerImpl::create_mu_    CreateStream, DeleteStream, a cluster's catalog changes
//   Stream::control_mu        one control-plane change of one stream
//   Stream::append_mu         shared by each append while it routes and queues its records,
//                             exclusive while a reshard drains the pipeline and swaps shards
//   BrokerImpl::groups_mu_    consumer groups' checkpoints and leases
//   BrokerImpl::streams_mu_   the maps of live streams
//   Stream::mu                a stream's meta and shard set
//   Shard::quota_mu, BrokerImpl::subscriptions_mu_   leaves
// and below them storage's own (CommitPipeline, Store::shards_mu_, ShardLog::mu_), which take
// none of these. The first three are held across catalog writes, shard drops and the
// pipeline drain; the others only to read, copy or swap what they guard. The guards are
// ABSL_GUARDED_BY annotations, checked by the clang -Wthread-safety build (scripts/test).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <absl/base/thread_annotations.h>

#include "common/mutex.h"
#include "server/broker/broker.h"
#include "server/broker/call_limits.h"
#include "server/broker/reader_positions.h"
#include "server/broker/token_bucket.h"
#include "server/broker/tokens.h"
#include "server/broker/validation.h"
#include "storage/format.h"
#include "storage/shard_log.h"
#include "storage/store.h"

namespace riffle::broker {

inline constexpr int64_t kIteratorTtlMs = 300'000;
inline constexpr int64_t kPageTokenTtlMs = 300'000;
inline constexpr int32_t kMinRetentionHours = 24;
inline constexpr int32_t kMaxRetentionHours = 8760;
inline constexpr size_t kMaxPartitionKeyLength = 256;
inline constexpr size_t kMaxDataBytes = 10 * 1024 * 1024;  // model maximum of the Data blob
inline constexpr size_t kMaxPutRecordsEntries = 500;
inline constexpr int64_t kMaxGetRecordsLimit = 10000;
inline constexpr uint64_t kMaxGetRecordsBytes = 10 * 1024 * 1024;
inline constexpr uint32_t kOnDemandDefaultShards = 4;
inline constexpr size_t kMaxTagsPerStream = 50;
inline constexpr int64_t kMinMaxRecordSizeKiB = 1024;
inline constexpr int64_t kMaxMaxRecordSizeKiB = 10240;
// UpdateShardCount: at most this many scalings of a stream in any window of this length.
inline constexpr size_t kMaxScalingsPerWindow = 10;
inline constexpr int64_t kScalingWindowMs = int64_t{24} * 3600 * 1000;
// The StreamMode values of the model.
inline const std::vector<std::string_view> kStreamModes = {"PROVISIONED", "ON_DEMAND"};

// The per-shard quotas of a PROVISIONED stream, and GetShardIterator's rate. Guarded by
// Shard::quota_mu.
struct ShardQuotas {
  TokenBucket write_bytes{1024.0 * 1024.0};
  TokenBucket write_records{1000.0};
  TokenBucket read_calls{5.0};
  TokenBucket read_bytes{2.0 * 1024.0 * 1024.0};
  // GetShardIterator's 5 calls/s per shard, in every stream mode.
  TokenBucket iterator_calls = CallRate(5.0);
};

struct Shard {
  storage::ShardMeta meta;
  std::string shard_id;  // shardId-%012d
  std::shared_ptr<storage::ShardLog> log;
  Mutex quota_mu;
  ShardQuotas quotas ABSL_GUARDED_BY(quota_mu);
  // Shared by the Shard objects of one shard across shard set rebuilds (reshards, catalog
  // changes), like `log`, so readers are not forgotten when the stream's meta changes.
  std::shared_ptr<ReaderPositions> readers = std::make_shared<ReaderPositions>();

  // Whether a reader at `next_offset` has read a closed shard to its end. A replica in a
  // cluster may not hold the shard's last records yet, so it ends at the shard's ending
  // position; a log that is the shard's whole copy (this node wrote it) ends at its committed
  // end too, which falls short of the ending position when its last records were trimmed or
  // abandoned.
  bool ReadToEnd(uint64_t next_offset) const {
    return meta.ending_position &&
           (next_offset >= *meta.ending_position ||
            (!log->replicated() && next_offset >= log->committed_end()));
  }
};

// The shards of a stream at one moment. Immutable: a reshard publishes a new one.
struct ShardSet {
  std::vector<std::shared_ptr<Shard>> all;   // by ordinal, open and closed
  std::vector<std::shared_ptr<Shard>> open;  // by starting hash key, for routing
  // nullptr if the stream has no shard with that ordinal.
  std::shared_ptr<Shard> Find(uint32_t ordinal) const;
  // The open shard whose hash key range holds `hash_key` (open shards tile [0, 2^128-1]).
  const std::shared_ptr<Shard>& Route(storage::HashKey hash_key) const;
  // The shards whose parent or adjacent parent is `ordinal`.
  std::vector<std::shared_ptr<Shard>> ChildrenOf(uint32_t ordinal) const;
  // The ordinal of every shard, in order.
  std::vector<uint32_t> Ordinals() const;
};

struct Stream {
  uint64_t id = 0;
  // Serializes control-plane changes of this stream (held across their catalog write).
  Mutex control_mu;
  // Held shared by every append while it routes and queues its records, exclusively by a
  // reshard while it closes shards. With it held, the reshard drains the commit pipeline: a
  // closed shard's last offset is then final, since every writer that routed to it has
  // committed (writers after the switch route to the children).
  SharedMutex append_mu;
  // Guards meta and shard_set; held only to copy or swap them, never across I/O.
  mutable Mutex mu;
  storage::StreamMeta meta ABSL_GUARDED_BY(mu);
  std::shared_ptr<const ShardSet> shard_set ABSL_GUARDED_BY(mu);
  // When UpdateShardCount scaled the stream within the last 24 hours (AWS allows ten; kept in
  // memory, so a restart forgets them).
  std::vector<int64_t> scalings ABSL_GUARDED_BY(control_mu);
  // Records and GetRecords calls refused by the stream's quotas since the last throttling
  // summary in the log.
  std::atomic<uint64_t> throttled_records{0};
  std::atomic<uint64_t> throttled_reads{0};
  // ListShards' 1000 calls/s per stream.
  Mutex list_shards_mu;
  TokenBucket list_shards_calls ABSL_GUARDED_BY(list_shards_mu) = CallRate(1000.0);

  storage::StreamMeta Snapshot() const ABSL_LOCKS_EXCLUDED(mu) {
    MutexLock lock(&mu);
    return meta;
  }
  std::shared_ptr<const ShardSet> shards() const ABSL_LOCKS_EXCLUDED(mu) {
    MutexLock lock(&mu);
    return shard_set;
  }
};

// Resolves a record's hash key: its ExplicitHashKey, or the MD5 of its partition key.
Status HashKeyOf(const std::optional<std::string>& explicit_hash_key,
                 const std::string& partition_key, storage::HashKey& out);

// ResourceInUse unless the stream is ACTIVE, in the service's wording.
Status RequireActive(const RequestContext& ctx, const storage::StreamMeta& meta);

class BrokerImpl final : public Broker {
 public:
  BrokerImpl(storage::Store& store, const Clock& clock, BrokerOptions options,
             std::string secret, Observer* observer);
  Status Load();

  Status AdmitCall(const RequestContext& ctx, std::string_view operation,
                   std::string_view stream) override;
  Status CreateStream(const RequestContext& ctx, const CreateStreamRequest& req) override;
  Status DeleteStream(const RequestContext& ctx, const DeleteStreamRequest& req) override;
  StatusOr<StreamDescription> DescribeStream(const RequestContext& ctx,
                                             const DescribeStreamRequest& req) override;
  StatusOr<StreamDescription> DescribeStreamSummary(const RequestContext& ctx,
                                                    const StreamRef& stream) override;
  StatusOr<ListStreamsResult> ListStreams(const RequestContext& ctx,
                                          const ListStreamsRequest& req) override;
  StatusOr<ListShardsResult> ListShards(const RequestContext& ctx,
                                        const ListShardsRequest& req) override;
  void PutRecordAsync(const RequestContext& ctx, const PutRecordRequest& req,
                      std::function<void(StatusOr<PutRecordResult>)> done) override;
  void PutRecordsAsync(const RequestContext& ctx, const PutRecordsRequest& req,
                       std::function<void(StatusOr<PutRecordsResult>)> done) override;
  StatusOr<std::string> GetShardIterator(const RequestContext& ctx,
                                         const GetShardIteratorRequest& req) override;
  StatusOr<GetRecordsResult> GetRecords(const RequestContext& ctx,
                                        const GetRecordsRequest& req) override;
  Status IncreaseStreamRetentionPeriod(const RequestContext& ctx,
                                       const RetentionRequest& req) override;
  Status DecreaseStreamRetentionPeriod(const RequestContext& ctx,
                                       const RetentionRequest& req) override;
  Status AddTagsToStream(const RequestContext& ctx, const AddTagsRequest& req) override;
  Status RemoveTagsFromStream(const RequestContext& ctx, const RemoveTagsRequest& req) override;
  StatusOr<ListTagsResult> ListTagsForStream(const RequestContext& ctx,
                                             const ListTagsRequest& req) override;
  StatusOr<EnhancedMonitoringResult> EnableEnhancedMonitoring(
      const RequestContext& ctx, const EnhancedMonitoringRequest& req) override;
  StatusOr<EnhancedMonitoringResult> DisableEnhancedMonitoring(
      const RequestContext& ctx, const EnhancedMonitoringRequest& req) override;
  Status StartStreamEncryption(const RequestContext& ctx, const EncryptionRequest& req) override;
  Status StopStreamEncryption(const RequestContext& ctx, const EncryptionRequest& req) override;
  Status UpdateStreamMode(const RequestContext& ctx, const UpdateStreamModeRequest& req) override;
  Status UpdateMaxRecordSize(const RequestContext& ctx,
                             const UpdateMaxRecordSizeRequest& req) override;
  StatusOr<WarmThroughputResult> UpdateStreamWarmThroughput(
      const RequestContext& ctx, const UpdateWarmThroughputRequest& req) override;
  StatusOr<AccountSettings> DescribeAccountSettings(const RequestContext& ctx) override;
  StatusOr<AccountSettings> UpdateAccountSettings(
      const RequestContext& ctx, const UpdateAccountSettingsRequest& req) override;
  Status PutResourcePolicy(const RequestContext& ctx, const ResourcePolicyRequest& req) override;
  StatusOr<std::string> GetResourcePolicy(const RequestContext& ctx,
                                          const ResourcePolicyRequest& req) override;
  Status DeleteResourcePolicy(const RequestContext& ctx,
                              const ResourcePolicyRequest& req) override;
  Status SplitShard(const RequestContext& ctx, const SplitShardRequest& req) override;
  Status MergeShards(const RequestContext& ctx, const MergeShardsRequest& req) override;
  StatusOr<UpdateShardCountResult> UpdateShardCount(const RequestContext& ctx,
                                                    const UpdateShardCountRequest& req) override;
  StatusOr<ConsumerDescription> RegisterStreamConsumer(const RequestContext& ctx,
                                                       const RegisterConsumerRequest& req) override;
  Status DeregisterStreamConsumer(const RequestContext& ctx, const ConsumerRef& req) override;
  StatusOr<ConsumerDescription> DescribeStreamConsumer(const RequestContext& ctx,
                                                       const ConsumerRef& req) override;
  StatusOr<ListConsumersResult> ListStreamConsumers(const RequestContext& ctx,
                                                    const ListConsumersRequest& req) override;
  StatusOr<Subscription> Subscribe(const RequestContext& ctx, const SubscribeRequest& req) override;
  StatusOr<SubscriptionEvent> NextEvent(const RequestContext& ctx,
                                        Subscription& subscription) override;
  StatusOr<DescribeLimitsResult> DescribeLimits(const RequestContext& ctx) override;
  StatusOr<ClusterDescription> DescribeCluster(const RequestContext& ctx) override;
  void TrimExpiredRecords() override;
  Status ApplyCatalogChange(const storage::CatalogChange& change) override;
  std::optional<ShardRef> RouteRecord(const RequestContext& ctx, const StreamRef& stream,
                                      const std::optional<std::string>& partition_key,
                                      const std::optional<std::string>& explicit_hash_key)
      const override;
  std::optional<ShardRef> RouteShardId(const RequestContext& ctx, const StreamRef& stream,
                                       const std::optional<std::string>& shard_id) const override;
  std::optional<std::string> ContinuationOf(const std::string& iterator) const override;
  std::optional<ShardRef> RouteIterator(const std::optional<std::string>& iterator)
      const override;
  bool NotifyWhenReadable(const Subscription& subscription, std::function<void()> wake) override;
  Status CreateConsumerGroup(const RequestContext& ctx, const CreateGroupRequest& req) override;
  Status DeleteConsumerGroup(const RequestContext& ctx, const GroupRef& req) override;
  StatusOr<GroupDescription> DescribeConsumerGroup(const RequestContext& ctx,
                                                   const GroupRef& req) override;
  StatusOr<ShardLease> LeaseShard(const RequestContext& ctx, const LeaseShardRequest& req) override;
  Status ReleaseShardLease(const RequestContext& ctx, const ReleaseLeaseRequest& req) override;
  Status Checkpoint(const RequestContext& ctx, const CheckpointRequest& req) override;
  std::vector<GroupLag> ConsumerGroupLags() override;
  std::vector<ReaderLag> ReaderLags() override;
  void LogThrottling() override;
  std::vector<StreamDisk> StreamDiskUsage() override;

 private:
  struct Entry;         // one record on its way in (records.cc)
  struct EntryOutcome;  // its result

  // Adds the model checks of StreamName/StreamARN to `v`, so that one ValidationException lists
  // them together with the operation's other failures.
  static void ValidateStreamRef(Validator& v, const StreamRef& ref);
  // Resolves a StreamName/StreamARN pair (validating both) to a live stream.
  StatusOr<std::shared_ptr<Stream>> ResolveStream(const RequestContext& ctx,
                                                  const StreamRef& ref) const;
  // The stream name a request gives, directly or inside its ARN ("" with neither), for messages.
  static std::string NameOf(const StreamRef& ref);
  // The ordinal a ShardId names in any form AWS resolves, or the ResourceNotFound AWS answers
  // for an id it cannot resolve, before it looks for the stream.
  static StatusOr<uint32_t> ResolveShardId(const RequestContext& ctx, const StreamRef& ref,
                                           const std::string& shard_id);
  std::shared_ptr<Stream> FindStream(const std::string& name) const
      ABSL_LOCKS_EXCLUDED(streams_mu_);
  std::shared_ptr<Stream> FindStreamById(uint64_t id) const ABSL_LOCKS_EXCLUDED(streams_mu_);
  // Every live stream, by name, copied so the caller can work on them without streams_mu_.
  std::vector<std::shared_ptr<Stream>> LiveStreams() const ABSL_LOCKS_EXCLUDED(streams_mu_);
  // Writes the stream's new meta to the catalog, then publishes it. Caller holds control_mu.
  // With `shards`, publishes that shard set together with the meta it was built from.
  Status CommitMeta(Stream& stream, storage::StreamMeta meta,
                    std::shared_ptr<const ShardSet> shards = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream.control_mu);
  StatusOr<std::shared_ptr<Stream>> BuildStream(storage::StreamMeta meta);
  // Makes the in-memory stream of `meta` match it (catalog_mirror.cc). Caller holds create_mu_.
  Status MirrorStream(storage::StreamMeta meta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(create_mu_);
  // Forgets a stream and has its shards' records dropped in the background. Caller
  // holds create_mu_.
  void ForgetStream(const std::shared_ptr<Stream>& stream)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(create_mu_);
  // The ShardSet of `meta`, reusing the Shards of `previous` (may be null) where they exist.
  StatusOr<std::shared_ptr<const ShardSet>> BuildShardSet(const storage::StreamMeta& meta,
                                                         const ShardSet* previous);
  // Closes `parents` and opens `children` (ranges, parent ordinals) in one catalog write,
  // after the parents' writes have stopped (sealed, when options_.shard_sealer is set). Caller
  // holds control_mu and has validated.
  struct NewShard {
    storage::HashKey start = 0;
    storage::HashKey end = 0;
    uint32_t parent = 0;
    std::optional<uint32_t> adjacent_parent;
  };
  Status Reshard(Stream& stream, const std::vector<uint32_t>& parents,
                 const std::vector<NewShard>& children)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream.control_mu);
  // Reshard's catalog write once the appends in flight have drained: each parent closes at its
  // sealed end, or without a sealer (`sealed_ends` empty) at its committed end here.
  Status CloseAndOpen(Stream& stream, const std::vector<uint32_t>& parents,
                      const std::vector<uint64_t>& sealed_ends,
                      const std::vector<NewShard>& children)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream.control_mu);
  StreamDescription Describe(const RequestContext& ctx, const storage::StreamMeta& meta) const;
  ShardDescription DescribeShard(const Shard& shard) const;
  // Removes the stream's closed shards whose records have all expired (the EXPIRED state):
  // they leave listings and their records are dropped.
  Status DropExpiredShards(Stream& stream, int64_t cutoff_ms)
      ABSL_LOCKS_EXCLUDED(stream.control_mu);
  Status ChangeRetention(const RequestContext& ctx, const RetentionRequest& req, bool increase);
  StatusOr<EnhancedMonitoringResult> ChangeMonitoring(const RequestContext& ctx,
                                                      const EnhancedMonitoringRequest& req,
                                                      bool enable);
  Status ChangeEncryption(const RequestContext& ctx, const EncryptionRequest& req, bool start);

  // A validated put: its stream, the EncryptionType to answer, and its entries (which point
  // into the request).
  struct PreparedPut {
    std::shared_ptr<Stream> stream;
    std::string encryption_type;
    std::vector<Entry> entries;
  };
  StatusOr<PreparedPut> PreparePutRecord(const RequestContext& ctx, const PutRecordRequest& req);
  StatusOr<PreparedPut> PreparePutRecords(const RequestContext& ctx,
                                          const PutRecordsRequest& req);
  // Prepare, then Append; `done` gets the result as the public forms describe.
  void DoPutRecord(const RequestContext& ctx, const PutRecordRequest& req,
                   std::function<void(StatusOr<PutRecordResult>)> done);
  void DoPutRecords(const RequestContext& ctx, const PutRecordsRequest& req,
                    std::function<void(StatusOr<PutRecordsResult>)> done);
  StatusOr<std::string> DoGetShardIterator(const RequestContext& ctx,
                                           const GetShardIteratorRequest& req);
  // These two set `stream_name` as soon as the request names the stream, for the metrics.
  StatusOr<Subscription> DoSubscribe(const RequestContext& ctx, const SubscribeRequest& req,
                                     std::string& stream_name);
  StatusOr<GetRecordsResult> DoGetRecords(const RequestContext& ctx, const GetRecordsRequest& req,
                                          std::string& stream_name);
  // PutRecord's SequenceNumberForOrdering must be a sequence number of one of the stream's
  // shards that has been given out; InvalidArgumentException in AWS's words otherwise.
  Status CheckOrderingSequenceNumber(const RequestContext& ctx, const Stream& stream,
                                     const std::string& stream_name,
                                     const std::string& sequence_number) const;
  // Where an iterator or subscription of `type` starts in `shard` (GetShardIterator's rules).
  StatusOr<uint64_t> StartOffset(const RequestContext& ctx, const storage::StreamMeta& meta,
                                 const Shard& shard, const std::string& type,
                                 const std::optional<std::string>& sequence_number,
                                 std::optional<int64_t> timestamp_ms, int64_t now) const;
  // The children of a closed shard as GetRecords and SubscribeToShard report them.
  static std::vector<ChildShard> ChildShardsOf(const ShardSet& shards, uint32_t ordinal);
  // The stream and consumer a ConsumerRef names.
  struct ResolvedConsumer {
    std::shared_ptr<Stream> stream;
    storage::ConsumerMeta consumer;
  };
  StatusOr<ResolvedConsumer> ResolveConsumer(const RequestContext& ctx,
                                             const ConsumerRef& ref) const;
  // The stream whose catalog entry holds the policy of `resource_arn`: the stream's own, or
  // that of one of its consumers.
  struct PolicyOwner {
    std::shared_ptr<Stream> stream;
    std::optional<storage::ConsumerMeta> consumer;  // nullopt: the stream's policy
    // Where the policy is in (a copy of) the stream's meta; nullptr when the consumer is gone.
    std::string* PolicyIn(storage::StreamMeta& meta) const;
  };
  StatusOr<PolicyOwner> ResolvePolicyOwner(const RequestContext& ctx,
                                           const std::string& resource_arn) const;
  // Sets (or when empty, removes) the policy of the stream or consumer `resource_arn` names.
  Status StorePolicy(const RequestContext& ctx, const std::string& resource_arn,
                     const std::string& policy);
  // The caller's account settings as of now (a scheduled end of the commitment that has come
  // to pass reads as DISABLED).
  StatusOr<storage::AccountMeta> LoadAccount(const RequestContext& ctx) const;
  // Whether `stream` may have a warm throughput of `mibps`: ON_DEMAND, within the limit, and
  // the account's billing commitment enabled.
  Status CheckWarmThroughput(const RequestContext& ctx, std::string_view stream,
                             std::string_view mode, int64_t mibps) const;
  ConsumerDescription DescribeConsumer(const RequestContext& ctx, const std::string& stream,
                                       const storage::ConsumerMeta& consumer) const;
  // Consumer groups (consumer_groups.cc). The stream and group a GroupRef names, and one shard
  // of that stream when a ShardId is given.
  using GroupKey = std::pair<uint64_t, std::string>;  // stream id, group name
  struct ResolvedGroup {
    std::shared_ptr<Stream> stream;
    std::shared_ptr<const ShardSet> shards;
    GroupKey key;
  };
  StatusOr<ResolvedGroup> ResolveGroup(const RequestContext& ctx, const GroupRef& ref) const;
  struct ResolvedGroupShard {
    ResolvedGroup group;
    std::shared_ptr<Shard> shard;
  };
  StatusOr<ResolvedGroupShard> ResolveGroupShard(const RequestContext& ctx, const GroupRef& ref,
                                                 const std::optional<std::string>& shard_id)
      const;
  // The group's meta, or ResourceNotFound. Caller holds groups_mu_.
  StatusOr<storage::GroupMeta*> FindGroupLocked(const RequestContext& ctx,
                                                const ResolvedGroup& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(groups_mu_);
  // Writes the group's meta to the catalog, then keeps it. Caller holds groups_mu_.
  Status CommitGroupLocked(const GroupKey& key, storage::GroupMeta meta)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(groups_mu_);
  GroupShardDescription DescribeGroupShard(const ShardSet& shards, const Shard& shard,
                                           const storage::GroupMeta& group) const;
  // Loads the groups of the live streams (called by Load()).
  Status LoadGroups() ABSL_LOCKS_EXCLUDED(groups_mu_);
  // The group of a catalog key group/<stream id>/<name>; nullopt for any other key.
  static std::optional<GroupKey> GroupKeyOf(std::string_view catalog_key);
  // A cluster's group changes, made by the controller: this node's groups follow them.
  void MirrorGroups(const storage::CatalogChange& change) ABSL_LOCKS_EXCLUDED(groups_mu_);
  // DeleteStream deletes the catalog keys of the stream's groups with the stream, then forgets
  // the groups.
  std::vector<std::string> GroupCatalogKeysOf(uint64_t stream_id) const
      ABSL_LOCKS_EXCLUDED(groups_mu_);
  void ForgetGroups(uint64_t stream_id) ABSL_LOCKS_EXCLUDED(groups_mu_);

  // The records from `offset` to the shard's end, and the age of the first of them.
  struct PositionLag {
    uint64_t records = 0;
    int64_t ms = 0;
  };
  PositionLag LagAt(const Shard& shard, uint64_t offset) const;
  // `stream` if such a stream exists, else "": metric labels only for streams that exist, so a
  // request naming made-up streams cannot add series without bound.
  std::string MetricLabel(std::string_view stream) const;
  void ReportCall(Operation operation, std::string_view stream,
                  std::chrono::steady_clock::time_point start, ErrorCode outcome) const;

  // The data plane shared by PutRecord and PutRecords: validates nothing, routes and throttles
  // each entry, queues every accepted one as one atomic append, and hands `done` the outcome of
  // each entry once it is committed (on the pipeline's thread, or at once if none is accepted).
  void Append(const RequestContext& ctx, Stream& stream, const std::vector<Entry>& entries,
              std::function<void(std::vector<EntryOutcome>)> done);
  bool Throttled(const Stream& stream) const;
  // Data plus partition key bytes of each entry, for the metrics.
  static std::vector<uint64_t> EntrySizes(const std::vector<Entry>& entries);

  // Pagination tokens: signed, stamped with their issue time, valid for kPageTokenTtlMs.
  std::string SignPageToken(TokenKind kind, std::string_view payload) const;
  // The payload, or InvalidArgument (not issued here) / ExpiredNextToken.
  StatusOr<std::string> OpenPageToken(TokenKind kind, std::string_view token) const;

  std::string Arn(const RequestContext& ctx, const std::string& name) const;
  std::string NotFound(const RequestContext& ctx, const std::string& name) const;

  storage::Store& store_;
  const Clock& clock_;
  const BrokerOptions options_;
  const TokenSigner signer_;
  Observer* const observer_;  // may be null

  // Serializes CreateStream, DeleteStream and a cluster's catalog changes (held across their
  // catalog write and shard drops).
  Mutex create_mu_;
  // Serializes UpdateAccountSettings (a read, then a write of the account's catalog entry).
  Mutex account_mu_;
  CallLimits call_limits_;
  // Guards the maps of live streams; held only to look up, copy or change them.
  mutable SharedMutex streams_mu_;
  std::map<std::string, std::shared_ptr<Stream>> streams_ ABSL_GUARDED_BY(streams_mu_);
  std::unordered_map<uint64_t, std::shared_ptr<Stream>> streams_by_id_ ABSL_GUARDED_BY(streams_mu_);
  uint64_t next_stream_id_ ABSL_GUARDED_BY(create_mu_) = 1;

  // The latest subscription of each consumer (by ARN) and shard: when it started and its
  // generation. Kinesis allows one at a time and a new one only 5 s after the last.
  struct ActiveSubscription {
    int64_t started_ms = 0;
    uint64_t generation = 0;
  };
  // Every consumer group, by stream id and name (so a stream's groups are adjacent). Held across
  // the catalog write of a group change: a lease check and the checkpoint it guards are one step.
  mutable Mutex groups_mu_;
  std::map<GroupKey, storage::GroupMeta> groups_ ABSL_GUARDED_BY(groups_mu_);

  mutable Mutex subscriptions_mu_;
  std::map<std::pair<std::string, uint32_t>, ActiveSubscription> subscriptions_
      ABSL_GUARDED_BY(subscriptions_mu_);
};

}  // namespace riffle::broker
