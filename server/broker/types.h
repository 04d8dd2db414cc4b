// Transport-free requests and results of the broker's operations. Front ends fill requests
// from their wire format (JSON, protobuf) without judging them: absent members stay nullopt and
// enum values stay strings, so every validation message is the broker's.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/auth/credentials.h"

namespace riffle::broker {

// Who is asking: the region and account that ARNs are printed with and checked against, and,
// when a credentials file is in use, the key the request was authenticated to. Front ends
// authorize each operation on the stream it names; the broker narrows what a key sees where
// the stream is not named in the request (ListStreams, an iterator's stream).
struct RequestContext {
  std::string region = "us-east-1";
  std::string account = "000000000000";
  std::shared_ptr<const auth::AccessKey> caller;  // null: no credentials file
  // In a cluster: how many nodes forwarded this call before it came here (0: from a client).
  int hops = 0;
};

// StreamName and/or StreamARN; at least one is required, and both must agree when given.
struct StreamRef {
  std::optional<std::string> name;
  std::optional<std::string> arn;
};

struct CreateStreamRequest {
  std::optional<std::string> stream_name;
  std::optional<int64_t> shard_count;
  std::optional<std::string> stream_mode;  // "PROVISIONED" | "ON_DEMAND"
  std::map<std::string, std::string> tags;
  std::optional<int64_t> max_record_size_kib;  // 1024..10240, default 1024
  std::optional<int64_t> warm_throughput_mibps;  // ON_DEMAND only
  std::optional<int64_t> replication_factor;     // 1..5, cluster mode (native API only)
};

struct DeleteStreamRequest {
  StreamRef stream;
  bool enforce_consumer_deletion = false;
};

struct HashKeyRange {
  std::string starting_hash_key;  // decimal
  std::string ending_hash_key;
};

struct ShardDescription {
  std::string shard_id;
  std::optional<std::string> parent_shard_id;
  std::optional<std::string> adjacent_parent_shard_id;
  HashKeyRange hash_key_range;
  std::string starting_sequence_number;
  std::optional<std::string> ending_sequence_number;  // absent while open
};

struct StreamDescription {
  std::string stream_name;
  std::string stream_arn;
  std::string stream_status;  // CREATING | ACTIVE | UPDATING | DELETING
  std::string stream_mode;    // PROVISIONED | ON_DEMAND
  std::vector<ShardDescription> shards;
  bool has_more_shards = false;
  int32_t retention_period_hours = 24;
  int64_t creation_time_ms = 0;
  std::vector<std::string> shard_level_metrics;
  std::string encryption_type = "NONE";
  std::optional<std::string> key_id;
  int32_t open_shard_count = 0;
  int32_t consumer_count = 0;
  int32_t max_record_size_kib = 1024;
  std::optional<int64_t> warm_throughput_mibps;  // on-demand streams that set one
};

struct DescribeStreamRequest {
  StreamRef stream;
  std::optional<int64_t> limit;
  std::optional<std::string> exclusive_start_shard_id;
};

struct ListStreamsRequest {
  std::optional<int64_t> limit;
  std::optional<std::string> exclusive_start_stream_name;
  std::optional<std::string> next_token;
};

struct StreamSummary {
  std::string stream_name;
  std::string stream_arn;
  std::string stream_status;
  std::string stream_mode;
  int64_t creation_time_ms = 0;
};

struct ListStreamsResult {
  std::vector<StreamSummary> streams;
  bool has_more_streams = false;
  std::optional<std::string> next_token;
};

struct ShardFilter {
  std::optional<std::string> type;  // AFTER_SHARD_ID | AT_TRIM_HORIZON | FROM_TRIM_HORIZON | ...
  std::optional<std::string> shard_id;
  std::optional<int64_t> timestamp_ms;
};

struct ListShardsRequest {
  StreamRef stream;
  std::optional<std::string> next_token;
  std::optional<std::string> exclusive_start_shard_id;
  std::optional<int64_t> max_results;
  std::optional<int64_t> stream_creation_timestamp_ms;
  std::optional<ShardFilter> shard_filter;
};

struct ListShardsResult {
  std::vector<ShardDescription> shards;
  std::optional<std::string> next_token;
};

struct PutRecordRequest {
  StreamRef stream;
  std::optional<std::string> data;  // raw bytes (already base64-decoded)
  std::optional<std::string> partition_key;
  std::optional<std::string> explicit_hash_key;
  std::optional<std::string> sequence_number_for_ordering;
};

struct PutRecordResult {
  std::string shard_id;
  std::string sequence_number;
  std::string encryption_type = "NONE";
};

struct PutRecordsEntry {
  std::optional<std::string> data;
  std::optional<std::string> partition_key;
  std::optional<std::string> explicit_hash_key;
};

struct PutRecordsRequest {
  StreamRef stream;
  std::optional<std::vector<PutRecordsEntry>> records;
};

struct PutRecordsResultEntry {
  std::optional<std::string> shard_id;
  std::optional<std::string> sequence_number;
  std::optional<std::string> error_code;  // ProvisionedThroughputExceededException | InternalFailure
  std::optional<std::string> error_message;
};

struct PutRecordsResult {
  int32_t failed_record_count = 0;
  std::vector<PutRecordsResultEntry> records;
  std::string encryption_type = "NONE";
};

struct GetShardIteratorRequest {
  StreamRef stream;
  std::optional<std::string> shard_id;
  std::optional<std::string> shard_iterator_type;
  std::optional<std::string> starting_sequence_number;
  std::optional<int64_t> timestamp_ms;
};

struct GetRecordsRequest {
  std::optional<std::string> shard_iterator;
  std::optional<int64_t> limit;
  std::optional<std::string> stream_arn;
};

struct Record {
  std::string sequence_number;
  int64_t arrival_time_ms = 0;
  std::string data;
  std::string partition_key;
  std::optional<std::string> encryption_type;  // "KMS" on encrypted streams, else absent
};

struct ChildShard {
  std::string shard_id;
  std::vector<std::string> parent_shards;
  HashKeyRange hash_key_range;
};

struct GetRecordsResult {
  std::vector<Record> records;
  std::optional<std::string> next_shard_iterator;
  int64_t millis_behind_latest = 0;
  std::vector<ChildShard> child_shards;
};

struct RetentionRequest {
  StreamRef stream;
  std::optional<int64_t> retention_period_hours;
};

struct AddTagsRequest {
  StreamRef stream;
  std::optional<std::map<std::string, std::string>> tags;
};

struct RemoveTagsRequest {
  StreamRef stream;
  std::optional<std::vector<std::string>> tag_keys;
};

struct ListTagsRequest {
  StreamRef stream;
  std::optional<std::string> exclusive_start_tag_key;
  std::optional<int64_t> limit;
};

struct ListTagsResult {
  std::vector<std::pair<std::string, std::string>> tags;  // sorted by key
  bool has_more_tags = false;
};

struct EnhancedMonitoringRequest {
  StreamRef stream;
  std::optional<std::vector<std::string>> shard_level_metrics;
};

struct EnhancedMonitoringResult {
  std::string stream_name;
  std::string stream_arn;
  std::vector<std::string> current_shard_level_metrics;
  std::vector<std::string> desired_shard_level_metrics;
};

struct EncryptionRequest {
  StreamRef stream;
  std::optional<std::string> encryption_type;
  std::optional<std::string> key_id;
};

struct UpdateMaxRecordSizeRequest {
  std::optional<std::string> stream_arn;
  std::optional<int64_t> max_record_size_kib;
};

struct UpdateStreamModeRequest {
  std::optional<std::string> stream_arn;
  std::optional<std::string> stream_mode;
};

struct SplitShardRequest {
  StreamRef stream;
  std::optional<std::string> shard_to_split;
  std::optional<std::string> new_starting_hash_key;
};

struct MergeShardsRequest {
  StreamRef stream;
  std::optional<std::string> shard_to_merge;
  std::optional<std::string> adjacent_shard_to_merge;
};

struct UpdateShardCountRequest {
  StreamRef stream;
  std::optional<int64_t> target_shard_count;
  std::optional<std::string> scaling_type;  // UNIFORM_SCALING
};

struct UpdateShardCountResult {
  std::string stream_name;
  std::string stream_arn;
  int32_t current_shard_count = 0;
  int32_t target_shard_count = 0;
};

// PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy: the policy of a stream or of a
// registered consumer, named by its ARN.
struct ResourcePolicyRequest {
  std::optional<std::string> resource_arn;
  std::optional<std::string> policy;  // PutResourcePolicy only: a JSON policy document
};

struct UpdateAccountSettingsRequest {
  // MinimumThroughputBillingCommitment.Status: ENABLED | DISABLED
  std::optional<std::string> minimum_throughput_billing_commitment;
};

// An account's minimum throughput billing commitment, which on-demand warm throughput needs.
struct AccountSettings {
  std::string commitment_status = "DISABLED";  // or ENABLED, ENABLED_UNTIL_EARLIEST_ALLOWED_END
  std::optional<int64_t> started_ms;
  std::optional<int64_t> ended_ms;
  std::optional<int64_t> earliest_allowed_end_ms;
};

struct UpdateWarmThroughputRequest {
  StreamRef stream;
  std::optional<int64_t> warm_throughput_mibps;
};

struct WarmThroughputResult {
  std::string stream_name;
  std::string stream_arn;
  int64_t target_mibps = 0;
  int64_t current_mibps = 0;
};

// A consumer named by ConsumerARN, or by StreamARN + ConsumerName (all three may be given if
// they agree).
struct ConsumerRef {
  std::optional<std::string> stream_arn;
  std::optional<std::string> consumer_name;
  std::optional<std::string> consumer_arn;
};

struct RegisterConsumerRequest {
  std::optional<std::string> stream_arn;
  std::optional<std::string> consumer_name;
};

struct ConsumerDescription {
  std::string consumer_name;
  std::string consumer_arn;
  std::string consumer_status;  // CREATING | ACTIVE | DELETING
  int64_t creation_time_ms = 0;
  std::string stream_arn;
};

struct ListConsumersRequest {
  std::optional<std::string> stream_arn;
  std::optional<std::string> next_token;
  std::optional<int64_t> max_results;
  std::optional<int64_t> stream_creation_timestamp_ms;
};

struct ListConsumersResult {
  std::vector<ConsumerDescription> consumers;
  std::optional<std::string> next_token;
};

struct StartingPosition {
  std::optional<std::string> type;  // the five ShardIteratorType values
  std::optional<std::string> sequence_number;
  std::optional<int64_t> timestamp_ms;
};

struct SubscribeRequest {
  std::optional<std::string> consumer_arn;
  std::optional<std::string> shard_id;
  std::optional<StartingPosition> starting_position;
};

// Where a subscription stands; the transport keeps it and asks for the next event.
// One shard of one stream, by the ids that never change.
struct ShardRef {
  uint64_t stream_id = 0;
  uint32_t ordinal = 0;
  auto operator<=>(const ShardRef&) const = default;
};

struct Subscription {
  uint64_t stream_id = 0;
  std::string consumer_name;  // the subscription ends when this registration goes away
  int64_t consumer_created_ms = 0;
  uint32_t shard_ordinal = 0;
  uint64_t offset = 0;                  // the next record to deliver
  std::string continuation_sequence_number;  // "after" this is the next record
  uint64_t generation = 0;  // a newer subscription of the same consumer and shard ends this one
  std::string consumer_arn;
  // Set when another node serves the shard (a cluster): the events are read through GetRecords
  // on that node with this shard iterator, the one its last read returned, instead of from
  // `offset` here.
  std::string forwarded_iterator;
};

struct SubscriptionEvent {
  std::vector<Record> records;
  // Absent only in the last event of a closed shard, which lists the children instead.
  std::optional<std::string> continuation_sequence_number;
  int64_t millis_behind_latest = 0;
  std::vector<ChildShard> child_shards;
  bool shard_ended = false;
};

struct DescribeLimitsResult {
  int32_t shard_limit = 0;
  int32_t open_shard_count = 0;
  int32_t on_demand_stream_count = 0;
  int32_t on_demand_stream_count_limit = 50;
};

// What `riffle cluster status` shows: the nodes that serve the streams and who owns each shard.
struct ClusterNodeInfo {
  std::string node_id;
  std::string grpc_addr;     // host:port of its gRPC API
  std::string kinesis_addr;  // host:port of its Kinesis API
  bool is_controller = false;
  bool draining = false;  // leaving: its shards move to the other nodes first
  int32_t shards_owned = 0;
};

struct ClusterShardInfo {
  std::string stream_name;
  std::string shard_id;
  uint64_t stream_id = 0;
  uint32_t ordinal = 0;
  std::string owner;         // node id; empty when no node owns it (yet)
  uint64_t epoch = 0;        // raised by every change of owner
  std::string moving_to;     // node id while the shard moves there, else empty
  bool owner_alive = false;  // the owner is a live member
  // The end of the shard's readable records, when the answering node owns the shard.
  std::optional<uint64_t> committed_end;
  // A replicated shard's copies (its leader among them; empty: one copy, on the owner), and
  // those its leader last reported in sync.
  std::vector<std::string> replicas;
  std::vector<std::string> in_sync;
};

struct ClusterDescription {
  std::string mode;                      // "single-node" | "cluster"
  std::string cluster_name;              // empty on a single node
  std::string node_id;                   // the node that answered ("local" on a single node)
  std::vector<ClusterNodeInfo> nodes;    // by node id
  std::vector<ClusterShardInfo> shards;  // by stream name, then shard id
};

// Consumer groups: a named group per stream with a checkpoint and a lease per shard, so that
// several runner processes share a stream's shards and resume where the group left off.
struct GroupRef {
  StreamRef stream;
  std::optional<std::string> group_name;
};

struct CreateGroupRequest {
  GroupRef group;
  // Where the shards that exist now start: TRIM_HORIZON (the default), LATEST or AT_TIMESTAMP
  // (with timestamp_ms). Shards created later start at their first record, after their parents.
  std::optional<std::string> starting_position;
  std::optional<int64_t> timestamp_ms;
};

struct GroupShardDescription {
  std::string shard_id;
  std::vector<std::string> parent_shard_ids;  // the parents still listed
  std::string checkpoint;  // sequence number of the last record processed; empty: none yet
  bool closed = false;     // a reshard closed it
  bool finished = false;   // closed, and processed to its last record
  std::string lease_owner;  // empty: never leased
  int64_t lease_expires_ms = 0;
  uint64_t lease_counter = 0;
  uint64_t lag_records = 0;  // readable records after the checkpoint
  int64_t lag_ms = 0;        // age of the first of them; 0 without lag
};

struct GroupDescription {
  std::string group_name;
  std::string stream_name;
  int64_t creation_time_ms = 0;
  std::vector<GroupShardDescription> shards;  // every listed shard, by shard id
};

struct LeaseShardRequest {
  GroupRef group;
  std::optional<std::string> shard_id;
  std::optional<std::string> owner;  // the worker asking: renewing needs the same owner
  std::optional<int64_t> lease_duration_ms;
  // Take the lease even from another live holder, so that a runner that joins while the others
  // hold every shard gets its share. The holder learns it at its next checkpoint or renewal.
  bool steal = false;
};

struct ShardLease {
  std::string shard_id;
  uint64_t lease_counter = 0;  // carried by every checkpoint under this lease
  int64_t lease_expires_ms = 0;
  std::string checkpoint;  // where the holder resumes after; empty: the shard's first record
};

struct ReleaseLeaseRequest {
  GroupRef group;
  std::optional<std::string> shard_id;
  std::optional<uint64_t> lease_counter;
};

struct CheckpointRequest {
  GroupRef group;
  std::optional<std::string> shard_id;
  std::optional<uint64_t> lease_counter;
  std::optional<std::string> sequence_number;  // the last record processed
};

// The bytes of one stream's records in table files on this node, for the metrics.
struct StreamDisk {
  std::string stream_name;
  uint64_t bytes = 0;
};

// One group's lag in one shard, for the metrics.
struct GroupLag {
  std::string stream_name;
  std::string group_name;
  std::string shard_id;
  uint64_t records = 0;
  int64_t ms = 0;
};

// How far behind one reader of one shard is, for the metrics: the furthest-behind iterator
// reader (`consumer` empty) or a registered consumer.
struct ReaderLag {
  std::string stream_name;
  std::string shard_id;
  bool shard_level = false;  // the stream has enhanced (shard-level) monitoring enabled
  std::string consumer;
  uint64_t readers = 0;  // iterator readers of the shard (with `consumer` empty)
  uint64_t records = 0;  // records from the reader's position to the shard's end
  int64_t ms = 0;        // age of the first of them (0 without lag)
};

}  // namespace riffle::broker
