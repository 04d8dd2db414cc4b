// C++ client for riffled's gRPC API. Plain structs in, riffle::Status / StatusOr out; no gRPC or
// protobuf type appears here. Errors carry the Kinesis code the server judged (read from the
// `riffle-error-code` trailer); a server that cannot be reached gives kServiceUnavailable.
//
// Thread-safe: one Client (one HTTP/2 channel) may be shared by any number of threads.
//
// Every struct member has an initializer, so designated initializers that leave members out
// compile without -Wmissing-field-initializers warnings.
//
//   riffle::client::Client client({.endpoint = "127.0.0.1:50051"});
//   riffle::Status created = client.CreateStream("orders", {.shard_count = 2});
//   auto put = client.PutRecord("orders", {.data = "hello", .partition_key = "user-1"});
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace riffle::client {

struct ClientOptions {
  std::string endpoint = "127.0.0.1:50051";  // host:port of riffled's gRPC listener
  // Deadline of each call. Connection failures fail fast, without waiting for it.
  std::chrono::milliseconds call_timeout{30000};
  // "<key id>:<secret>" of a key in the server's credentials file, sent with every call as a
  // bearer token; empty for a server without one.
  std::string credentials{};
  // A PEM CA file: speak TLS to the server and trust the certificates it signed. Empty: plain.
  std::string tls_ca_file{};
  // With tls_ca_file, for a server that requires client certificates (mutual TLS): this
  // client's PEM certificate and key.
  std::string tls_cert_file{};
  std::string tls_key_file{};
};

enum class StreamMode { kProvisioned, kOnDemand };

struct CreateStreamOptions {
  std::optional<int32_t> shard_count{};  // PROVISIONED streams; unset for ON_DEMAND
  std::optional<StreamMode> mode{};      // unset: the server's default for what else is given
  std::map<std::string, std::string> tags{};
  // Copies of each shard in a cluster, 1-5; unset: the cluster's --replication-factor.
  std::optional<int32_t> replication_factor{};
};

struct HashKeyRange {
  std::string starting_hash_key{};  // decimal, inclusive
  std::string ending_hash_key{};    // decimal, inclusive
};

struct Shard {
  std::string shard_id{};
  std::string parent_shard_id{};           // empty for a shard created with the stream
  std::string adjacent_parent_shard_id{};  // set only for a merged shard
  HashKeyRange hash_key_range{};
  std::string starting_sequence_number{};
  std::string ending_sequence_number{};  // empty while the shard is open
};

struct StreamDescription {
  std::string stream_name{};
  std::string stream_arn{};
  std::string stream_status{};  // CREATING | ACTIVE | UPDATING | DELETING
  std::optional<StreamMode> mode{};
  std::vector<Shard> shards{};  // all of them: DescribeStream follows the pages
  int32_t retention_period_hours = 0;
  int64_t creation_time_ms = 0;  // since the Unix epoch
  std::string encryption_type{};
  int32_t open_shard_count = 0;
  int32_t consumer_count = 0;  // enhanced fan-out consumers
};

struct StreamSummary {
  std::string stream_name{};
  std::string stream_arn{};
  std::string stream_status{};
  std::optional<StreamMode> mode{};
  int64_t creation_time_ms = 0;
};

// One record to write. Its shard is picked by the MD5 of partition_key, or by explicit_hash_key
// (decimal, 0..2^128-1) when that is not empty.
struct RecordToPut {
  std::string data{};
  std::string partition_key{};
  std::string explicit_hash_key{};
};

struct PutRecordResult {
  std::string shard_id{};
  std::string sequence_number{};
};

// One entry per record of a PutRecords call, in request order. A failed entry has an error_code
// (ProvisionedThroughputExceededException or InternalFailure) and no shard or sequence number;
// the caller may retry it.
struct PutRecordsEntryResult {
  std::string shard_id{};
  std::string sequence_number{};
  std::string error_code{};
  std::string error_message{};
  bool ok() const { return error_code.empty(); }
};

struct PutRecordsResult {
  int32_t failed_record_count = 0;
  std::vector<PutRecordsEntryResult> records{};
};

enum class IteratorType {
  kAtSequenceNumber,
  kAfterSequenceNumber,
  kTrimHorizon,
  kLatest,
  kAtTimestamp,
};

// Where a shard iterator starts. Build one with the named constructors.
struct IteratorPosition {
  IteratorType type = IteratorType::kTrimHorizon;
  std::string sequence_number{};  // kAtSequenceNumber, kAfterSequenceNumber
  int64_t timestamp_ms = 0;       // kAtTimestamp: first record that arrived at or after it

  static IteratorPosition TrimHorizon() { return {}; }
  static IteratorPosition Latest() { return {.type = IteratorType::kLatest}; }
  static IteratorPosition AtSequenceNumber(std::string sequence_number) {
    return {.type = IteratorType::kAtSequenceNumber, .sequence_number = std::move(sequence_number)};
  }
  static IteratorPosition AfterSequenceNumber(std::string sequence_number) {
    return {.type = IteratorType::kAfterSequenceNumber,
            .sequence_number = std::move(sequence_number)};
  }
  static IteratorPosition AtTimestamp(int64_t timestamp_ms) {
    return {.type = IteratorType::kAtTimestamp, .timestamp_ms = timestamp_ms};
  }
};

struct Record {
  std::string sequence_number{};
  int64_t arrival_time_ms = 0;
  std::string data{};
  std::string partition_key{};
};

struct ChildShard {
  std::string shard_id{};
  std::vector<std::string> parent_shards{};
  HashKeyRange hash_key_range{};
};

struct GetRecordsResult {
  std::vector<Record> records{};
  // Pass to the next GetRecords. Empty only at the end of a closed shard; then child_shards says
  // where its hash keys went.
  std::string next_shard_iterator{};
  int64_t millis_behind_latest = 0;
  std::vector<ChildShard> child_shards{};
};

enum class ScalingType { kUniformScaling };

struct UpdateShardCountResult {
  std::string stream_name{};
  std::string stream_arn{};
  int32_t current_shard_count = 0;  // open shards before the call
  int32_t target_shard_count = 0;
};

struct DeleteStreamOptions {
  // Needed to delete a stream that has registered consumers (else kResourceInUse); they go too.
  bool enforce_consumer_deletion = false;
};

// An enhanced fan-out consumer registered on a stream.
struct Consumer {
  std::string consumer_name{};
  // Names this registration: the same name registered again gets another ARN.
  std::string consumer_arn{};
  std::string consumer_status{};  // CREATING | ACTIVE | DELETING
  int64_t creation_time_ms = 0;   // since the Unix epoch
  std::string stream_arn{};
};

// One event of a SubscribeToShard call.
struct SubscriptionEvent {
  std::vector<Record> records{};  // none in a heartbeat
  // Subscribe AfterSequenceNumber(this) to go on right after this event. Empty only in the last
  // event of a closed shard, which names the children in child_shards.
  std::string continuation_sequence_number{};
  int64_t millis_behind_latest = 0;
  std::vector<ChildShard> child_shards{};
  bool shard_ended() const { return continuation_sequence_number.empty(); }
};

// One node of a cluster, as DescribeCluster reports it.
struct ClusterNode {
  std::string node_id{};
  std::string grpc_addr{};     // host:port of its gRPC API
  std::string kinesis_addr{};  // host:port of its Kinesis API
  bool is_controller = false;
  bool draining = false;  // leaving: its shards move to the other nodes first
  int32_t shards_owned = 0;
};

// Who owns one shard.
struct ClusterShard {
  std::string stream_name{};
  std::string shard_id{};
  std::string owner{};       // node id; empty when no node owns it (yet)
  uint64_t epoch = 0;        // raised by every change of owner
  std::string moving_to{};   // node id while the shard moves there
  bool owner_alive = false;  // the owner is a live member
  // The end of the shard's readable records, when the node that answered owns the shard.
  std::optional<uint64_t> committed_end{};
  // A replicated shard's copies, its leader (the owner) among them; empty: one copy.
  std::vector<std::string> replicas{};
  // The copies its leader last reported in sync (itself included).
  std::vector<std::string> in_sync{};
};

struct ClusterStatus {
  std::string mode{};                  // "single-node" | "cluster"
  std::string cluster_name{};          // empty on a single node
  std::string node_id{};               // the node that answered ("local" on a single node)
  std::vector<ClusterNode> nodes{};    // by node id
  std::vector<ClusterShard> shards{};  // by stream name, then shard id
};

// One shard as a consumer group sees it (DescribeConsumerGroup).
struct GroupShard {
  std::string shard_id{};
  std::vector<std::string> parent_shard_ids{};  // those still listed
  std::string checkpoint{};  // sequence number of the last record processed; empty: none yet
  bool closed = false;
  bool finished = false;  // closed and processed to its last record
  std::string lease_owner{};
  int64_t lease_expires_ms = 0;
  uint64_t lease_counter = 0;
  uint64_t lag_records = 0;  // records after the checkpoint
  int64_t lag_ms = 0;        // age of the first of them
};

struct ConsumerGroup {
  std::string group_name{};
  std::string stream_name{};
  int64_t creation_time_ms = 0;
  std::vector<GroupShard> shards{};  // by shard id
};

// A worker's lease on one shard of a consumer group.
struct ShardLease {
  std::string shard_id{};
  uint64_t lease_counter = 0;  // pass to Checkpoint and ReleaseShardLease
  int64_t lease_expires_ms = 0;
  std::string checkpoint{};  // read after it; empty: from the shard's first record
};

// An open SubscribeToShard call: the server pushes an event whenever records arrive, and an
// empty one after 5 s without. Next() from one thread; Cancel() from any. Destroying it cancels
// the call; the Client that opened it must outlive it.
class ShardSubscription {
 public:
  class Call;  // the gRPC reader, kept out of this header
  explicit ShardSubscription(std::unique_ptr<Call> call);
  ~ShardSubscription();
  ShardSubscription(const ShardSubscription&) = delete;
  ShardSubscription& operator=(const ShardSubscription&) = delete;

  // Waits for the next event. False once the call is over: after the last event of a closed
  // shard, after Cancel(), or on an error (a server that shuts down ends it with
  // kServiceUnavailable); status() then says which.
  bool Next(SubscriptionEvent& event);
  // Ends the call; a Next() blocked in another thread returns false promptly.
  void Cancel();
  // OK while open, at a shard's end and after Cancel(); else why the call ended.
  const Status& status() const { return status_; }

 private:
  std::unique_ptr<Call> call_;
  std::atomic<bool> cancelled_{false};
  Status status_;
};

// Every `stream` argument is a stream name, or a stream ARN when it starts with "arn:"; every
// `consumer` argument is a consumer name on that stream, or a consumer ARN when it starts with
// "arn:" (then `stream` is not needed and may be empty).
class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }

  Status CreateStream(const std::string& stream_name, const CreateStreamOptions& options = {});
  Status DeleteStream(const std::string& stream, const DeleteStreamOptions& options = {});
  // All shards, however many pages that takes.
  StatusOr<StreamDescription> DescribeStream(const std::string& stream);
  // All streams, in name order, however many pages that takes.
  StatusOr<std::vector<StreamSummary>> ListStreams();
  // All shards that have not expired, in shard id order.
  StatusOr<std::vector<Shard>> ListShards(const std::string& stream);

  // `sequence_number_for_ordering`, when not empty, must be a sequence number of this stream.
  StatusOr<PutRecordResult> PutRecord(const std::string& stream, const RecordToPut& record,
                                      const std::string& sequence_number_for_ordering = "");
  // 1-500 records, at most 10 MiB in all. Records for one shard keep their order.
  StatusOr<PutRecordsResult> PutRecords(const std::string& stream,
                                        const std::vector<RecordToPut>& records);

  StatusOr<std::string> GetShardIterator(const std::string& stream, const std::string& shard_id,
                                         const IteratorPosition& position);
  // limit: 1-10000 records; unset means the server's maximum.
  StatusOr<GetRecordsResult> GetRecords(const std::string& shard_iterator,
                                        std::optional<int32_t> limit = std::nullopt);

  Status IncreaseStreamRetentionPeriod(const std::string& stream, int32_t hours);
  Status DecreaseStreamRetentionPeriod(const std::string& stream, int32_t hours);

  Status AddTagsToStream(const std::string& stream, const std::map<std::string, std::string>& tags);
  Status RemoveTagsFromStream(const std::string& stream, const std::vector<std::string>& keys);
  // All tags, however many pages that takes.
  StatusOr<std::map<std::string, std::string>> ListTagsForStream(const std::string& stream);

  // Resharding of PROVISIONED streams (ON_DEMAND ones fail with kValidation). The parents close
  // at their last record and stay readable; GetRecords at the end of one returns no next
  // iterator and the children in child_shards. Read a child only after all of its parents to
  // keep each partition key's order.
  //
  // Splits an open shard in two at `new_starting_hash_key` (decimal), the second child's first
  // hash key: it must be greater than the shard's starting hash key + 1 and less than its ending
  // hash key (else kInvalidArgument). An unknown shard is kResourceNotFound, a closed one
  // kResourceInUse.
  Status SplitShard(const std::string& stream, const std::string& shard_to_split,
                    const std::string& new_starting_hash_key);
  // Merges two open shards into one; `shard_to_merge`'s hash keys must end right below
  // `adjacent_shard_to_merge`'s (else kInvalidArgument).
  Status MergeShards(const std::string& stream, const std::string& shard_to_merge,
                     const std::string& adjacent_shard_to_merge);
  // Reshards the open shards into `target_shard_count` of equal hash key ranges: between half
  // and double the open shard count (else kLimitExceeded).
  StatusOr<UpdateShardCountResult> UpdateShardCount(
      const std::string& stream, int32_t target_shard_count,
      ScalingType scaling_type = ScalingType::kUniformScaling);

  // Enhanced fan-out (at most 20 consumers per stream). A name the stream already has is
  // kResourceInUse; an unknown consumer or stream kResourceNotFound.
  StatusOr<Consumer> RegisterStreamConsumer(const std::string& stream,
                                            const std::string& consumer_name);
  Status DeregisterStreamConsumer(const std::string& stream, const std::string& consumer);
  StatusOr<Consumer> DescribeStreamConsumer(const std::string& stream, const std::string& consumer);
  // All of the stream's consumers, in registration order, however many pages that takes.
  StatusOr<std::vector<Consumer>> ListStreamConsumers(const std::string& stream);

  // Consumer groups: a checkpoint and a lease per shard, kept by riffled. `start` (TrimHorizon,
  // Latest or AtTimestamp) is where the shards of today start; later ones start at their first
  // record. A name taken is kResourceInUse; an unknown group kResourceNotFound.
  Status CreateConsumerGroup(const std::string& stream, const std::string& group,
                             const IteratorPosition& start = IteratorPosition::TrimHorizon());
  Status DeleteConsumerGroup(const std::string& stream, const std::string& group);
  StatusOr<ConsumerGroup> DescribeConsumerGroup(const std::string& stream,
                                                const std::string& group);
  // Grants `owner` the shard's lease for `duration`, or renews it if `owner` holds it. Another
  // owner's unexpired lease (unless kSteal), or parents not processed to their end, are
  // kResourceInUse.
  enum class LeaseMode { kFree, kSteal };
  StatusOr<ShardLease> LeaseShard(const std::string& stream, const std::string& group,
                                  const std::string& shard_id, const std::string& owner,
                                  std::chrono::milliseconds duration,
                                  LeaseMode mode = LeaseMode::kFree);
  Status ReleaseShardLease(const std::string& stream, const std::string& group,
                           const std::string& shard_id, uint64_t lease_counter);
  // Records `sequence_number` as the last record processed; kResourceInUse once the lease with
  // `lease_counter` was taken by another worker.
  Status Checkpoint(const std::string& stream, const std::string& group,
                    const std::string& shard_id, uint64_t lease_counter,
                    const std::string& sequence_number);

  // The nodes serving the streams, the controller, and the owner of every shard, as the node at
  // the endpoint sees them. A single riffled is one node, "local", owning every shard.
  StatusOr<ClusterStatus> DescribeCluster();

  // Opens a push subscription of `consumer_arn` to one shard from `position`, and waits for its
  // first event (sent at once, records or not), so a bad argument, an unknown consumer or shard
  // fails here with the server's code. No deadline: it lasts until the shard's end, Cancel() or
  // the server's shutdown.
  StatusOr<std::unique_ptr<ShardSubscription>> SubscribeToShard(const std::string& consumer_arn,
                                                                const std::string& shard_id,
                                                                const IteratorPosition& position);

 private:
  class Rpc;  // the gRPC stub and call plumbing, kept out of this header

  const ClientOptions options_;
  std::unique_ptr<Rpc> rpc_;
};

}  // namespace riffle::client
