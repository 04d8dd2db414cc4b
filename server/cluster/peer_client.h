// The broker operations of another node, called through its gRPC API: what the cluster broker
// uses to forward a call to the node that may run it (docs/cluster.md §8). Each call returns what
// the peer's broker returned, so a forwarded call answers as if it had run here: the same result,
// or the same ErrorCode and message (riffle.proto's `riffle-error-code` trailer). Each carries the
// caller's account and region (`riffle-account` / `riffle-region` metadata), so the peer prints
// and checks ARNs as this node would, and a deadline.
//
// A call the peer's broker did not answer (peer down or unreachable, deadline passed) is
// ServiceUnavailable naming the peer; except a write past its deadline, which may have happened
// all the same: that is InternalFailure, outcome unknown.
//
// Thread-safe. Calls in flight keep what they use alive, so the client may be destroyed while an
// asynchronous call is still running.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/broker/types.h"

namespace grpc {
class Channel;
class ChannelCredentials;
}

namespace riffle::cluster {

struct PeerClientOptions {
  // How errors name the peer, e.g. "node n2 (10.0.0.2:50051)".
  std::string name = "peer";
  // How long a call may take, from sending it to the peer's answer.
  std::chrono::milliseconds deadline{10'000};
};

// How a node reaches the others when security is on (docs/security.md): over TLS when its gRPC
// port speaks TLS, and with the cluster key of the credentials file on every call that does not
// carry a caller's own key (replication, fencing, a shard's copy).
struct PeerSecurity {
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;  // null: plain text
  // "Bearer <id>:<secret>" of the cluster key, asked for on each call (the file may be reloaded);
  // null or empty: none.
  std::function<std::string()> authorization;
};

// TLS that presents `cert_file`/`key_file` as this node's client certificate (the others may
// require one: --tls-client-ca) and verifies a peer's certificate with `ca_file`, or the system's
// trusted roots when it is empty. The files are read again when they change, as the server does.
std::shared_ptr<grpc::ChannelCredentials> NewPeerTlsCredentials(const std::string& cert_file,
                                                                const std::string& key_file,
                                                                const std::string& ca_file);

// A channel fit for PeerClient: it takes the largest answers (a GetRecords response carries up to
// 10 MiB), and connects again within a second of a peer coming back.
std::shared_ptr<grpc::Channel> NewPeerChannel(const std::string& address,
                                              const PeerSecurity& security = {});

class PeerClient {
 public:
  // A reshard waits for its parents' leaders to seal them, up to ShardCloser::kSealTimeout for
  // each of UpdateShardCount's two layers, longer than PeerClientOptions::deadline.
  static constexpr std::chrono::milliseconds kReshardDeadline{60'000};

  explicit PeerClient(std::shared_ptr<grpc::Channel> channel, PeerClientOptions options = {});
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  Status CreateStream(const broker::RequestContext& ctx, const broker::CreateStreamRequest& req);
  Status DeleteStream(const broker::RequestContext& ctx, const broker::DeleteStreamRequest& req);
  StatusOr<broker::StreamDescription> DescribeStream(const broker::RequestContext& ctx,
                                                     const broker::DescribeStreamRequest& req);
  StatusOr<broker::StreamDescription> DescribeStreamSummary(const broker::RequestContext& ctx,
                                                            const broker::StreamRef& stream);
  StatusOr<broker::ListStreamsResult> ListStreams(const broker::RequestContext& ctx,
                                                  const broker::ListStreamsRequest& req);
  StatusOr<broker::ListShardsResult> ListShards(const broker::RequestContext& ctx,
                                                const broker::ListShardsRequest& req);
  // Return at once and run `done` exactly once with the peer's answer or the call's failure: on
  // a gRPC thread, or on the caller's when the call fails at once. `done` must not block. The
  // request need not outlive the call.
  void PutRecordAsync(const broker::RequestContext& ctx, const broker::PutRecordRequest& req,
                      std::function<void(StatusOr<broker::PutRecordResult>)> done);
  void PutRecordsAsync(const broker::RequestContext& ctx, const broker::PutRecordsRequest& req,
                       std::function<void(StatusOr<broker::PutRecordsResult>)> done);
  StatusOr<std::string> GetShardIterator(const broker::RequestContext& ctx,
                                         const broker::GetShardIteratorRequest& req);
  StatusOr<broker::GetRecordsResult> GetRecords(const broker::RequestContext& ctx,
                                                const broker::GetRecordsRequest& req);
  Status IncreaseStreamRetentionPeriod(const broker::RequestContext& ctx,
                                       const broker::RetentionRequest& req);
  Status DecreaseStreamRetentionPeriod(const broker::RequestContext& ctx,
                                       const broker::RetentionRequest& req);
  Status AddTagsToStream(const broker::RequestContext& ctx, const broker::AddTagsRequest& req);
  Status RemoveTagsFromStream(const broker::RequestContext& ctx,
                              const broker::RemoveTagsRequest& req);
  StatusOr<broker::ListTagsResult> ListTagsForStream(const broker::RequestContext& ctx,
                                                     const broker::ListTagsRequest& req);
  StatusOr<broker::EnhancedMonitoringResult> EnableEnhancedMonitoring(
      const broker::RequestContext& ctx, const broker::EnhancedMonitoringRequest& req);
  StatusOr<broker::EnhancedMonitoringResult> DisableEnhancedMonitoring(
      const broker::RequestContext& ctx, const broker::EnhancedMonitoringRequest& req);
  Status StartStreamEncryption(const broker::RequestContext& ctx,
                               const broker::EncryptionRequest& req);
  Status StopStreamEncryption(const broker::RequestContext& ctx,
                              const broker::EncryptionRequest& req);
  Status UpdateStreamMode(const broker::RequestContext& ctx,
                          const broker::UpdateStreamModeRequest& req);
  Status UpdateMaxRecordSize(const broker::RequestContext& ctx,
                             const broker::UpdateMaxRecordSizeRequest& req);
  StatusOr<broker::DescribeLimitsResult> DescribeLimits(const broker::RequestContext& ctx);
  StatusOr<broker::WarmThroughputResult> UpdateStreamWarmThroughput(
      const broker::RequestContext& ctx, const broker::UpdateWarmThroughputRequest& req);
  StatusOr<broker::AccountSettings> UpdateAccountSettings(
      const broker::RequestContext& ctx, const broker::UpdateAccountSettingsRequest& req);
  Status PutResourcePolicy(const broker::RequestContext& ctx,
                           const broker::ResourcePolicyRequest& req);
  Status DeleteResourcePolicy(const broker::RequestContext& ctx,
                              const broker::ResourcePolicyRequest& req);
  Status SplitShard(const broker::RequestContext& ctx, const broker::SplitShardRequest& req);
  Status MergeShards(const broker::RequestContext& ctx, const broker::MergeShardsRequest& req);
  StatusOr<broker::UpdateShardCountResult> UpdateShardCount(
      const broker::RequestContext& ctx, const broker::UpdateShardCountRequest& req);
  StatusOr<broker::ConsumerDescription> RegisterStreamConsumer(
      const broker::RequestContext& ctx, const broker::RegisterConsumerRequest& req);
  Status DeregisterStreamConsumer(const broker::RequestContext& ctx,
                                  const broker::ConsumerRef& req);
  StatusOr<broker::ConsumerDescription> DescribeStreamConsumer(const broker::RequestContext& ctx,
                                                               const broker::ConsumerRef& req);
  StatusOr<broker::ListConsumersResult> ListStreamConsumers(
      const broker::RequestContext& ctx, const broker::ListConsumersRequest& req);
  Status CreateConsumerGroup(const broker::RequestContext& ctx,
                             const broker::CreateGroupRequest& req);
  Status DeleteConsumerGroup(const broker::RequestContext& ctx, const broker::GroupRef& req);
  StatusOr<broker::GroupDescription> DescribeConsumerGroup(const broker::RequestContext& ctx,
                                                           const broker::GroupRef& req);
  StatusOr<broker::ShardLease> LeaseShard(const broker::RequestContext& ctx,
                                          const broker::LeaseShardRequest& req);
  Status ReleaseShardLease(const broker::RequestContext& ctx,
                           const broker::ReleaseLeaseRequest& req);
  Status Checkpoint(const broker::RequestContext& ctx, const broker::CheckpointRequest& req);

 private:
  // The stub and what every call needs; shared with the asynchronous calls in flight.
  class Rpc;
  std::shared_ptr<Rpc> rpc_;
};

}  // namespace riffle::cluster
