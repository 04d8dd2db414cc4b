#include "server/api/grpc/riffle_service.h"

#include <algorithm>
#include <charconv>

#include <optional>
#include <string_view>
#include <utility>

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include "riffle/v1/riffle.grpc.pb.h"
#include "server/api/grpc/call_auth.h"
#include "server/api/grpc/convert.h"
#include "server/api/grpc/error_map.h"
#include "server/api/grpc/subscription_reactor.h"

namespace riffle::grpc_api {
namespace {

using grpc::CallbackServerContext;

// Request metadata naming the account and region a call acts for (riffle.proto).
constexpr char kAccountMetadata[] = "riffle-account";
constexpr char kRegionMetadata[] = "riffle-region";
constexpr char kHopsMetadata[] = "riffle-hops";
// More forwards than any cluster path takes: a larger count is a client's, and is capped.
constexpr int kMaxHops = 4;

// Every call on gRPC's callback API. The writes complete from the commit pipeline, so no thread
// waits for an fsync; the other unary calls answer inline (they read, or change the catalog,
// which is rare); subscriptions run on the SubscriptionRunner.
class RiffleService final : public v1::Riffle::CallbackService {
 public:
  RiffleService(broker::Broker& broker, broker::RequestContext context, const Clock& clock,
                const std::atomic<bool>& stopping, const auth::Credentials* credentials)
      : broker_(broker),
        ctx_(std::move(context)),
        credentials_(credentials),
        subscriptions_(clock, stopping) {}

  void WakeSubscriptions() { subscriptions_.WakeAll(); }

  grpc::ServerUnaryReactor* CreateStream(CallbackServerContext* context, const v1::CreateStreamRequest* request,
                            v1::CreateStreamResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "CreateStream", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.CreateStream(ContextOf(context), FromProto(*request)),
                                      *context, InUseMeans::kNameTaken));
  }

  grpc::ServerUnaryReactor* DeleteStream(CallbackServerContext* context, const v1::DeleteStreamRequest* request,
                            v1::DeleteStreamResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DeleteStream", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.DeleteStream(ContextOf(context), FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* DescribeStream(CallbackServerContext* context, const v1::DescribeStreamRequest* request,
                              v1::DescribeStreamResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DescribeStream", *request)) {
      return Done(context, *denied);
    }
    StatusOr<broker::StreamDescription> result =
        broker_.DescribeStream(ContextOf(context), FromProto(*request));
    if (result.ok()) {
      ToProto(*result, *response->mutable_description());
    }
    return Done(context, ToGrpcStatus(result.status(), *context));
  }

  grpc::ServerUnaryReactor* DescribeStreamSummary(
      CallbackServerContext* context, const v1::DescribeStreamSummaryRequest* request,
      v1::DescribeStreamSummaryResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DescribeStreamSummary", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.DescribeStreamSummary(ContextOf(context),
                                                             FromProto(request->stream())),
                               *context, *response->mutable_description()));
  }

  grpc::ServerUnaryReactor* ListStreams(CallbackServerContext* context, const v1::ListStreamsRequest* request,
                           v1::ListStreamsResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "ListStreams", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.ListStreams(ContextOf(context), FromProto(*request)),
                               *context, *response));
  }

  grpc::ServerUnaryReactor* ListShards(CallbackServerContext* context, const v1::ListShardsRequest* request,
                          v1::ListShardsResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "ListShards", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.ListShards(ContextOf(context), FromProto(*request)),
                               *context, *response));
  }

  grpc::ServerUnaryReactor* GetShardIterator(CallbackServerContext* context, const v1::GetShardIteratorRequest* request,
                                v1::GetShardIteratorResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "GetShardIterator", *request)) {
      return Done(context, *denied);
    }
    StatusOr<std::string> result =
        broker_.GetShardIterator(ContextOf(context), FromProto(*request));
    if (result.ok()) {
      response->set_shard_iterator(std::move(result).value());
    }
    return Done(context, ToGrpcStatus(result.status(), *context));
  }

  grpc::ServerUnaryReactor* GetRecords(CallbackServerContext* context, const v1::GetRecordsRequest* request,
                          v1::GetRecordsResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "GetRecords", *request)) {
      return Done(context, *denied);
    }
    StatusOr<broker::GetRecordsResult> result =
        broker_.GetRecords(ContextOf(context), FromProto(*request));
    if (result.ok()) {
      ToProto(std::move(result).value(), *response);
      return Done(context, grpc::Status::OK);
    }
    return Done(context, ToGrpcStatus(result.status(), *context));
  }

  grpc::ServerUnaryReactor* IncreaseStreamRetentionPeriod(CallbackServerContext* context,
                                             const v1::RetentionRequest* request,
                                             v1::RetentionResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "IncreaseStreamRetentionPeriod", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.IncreaseStreamRetentionPeriod(ContextOf(context),
                                                                            FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* DecreaseStreamRetentionPeriod(CallbackServerContext* context,
                                             const v1::RetentionRequest* request,
                                             v1::RetentionResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DecreaseStreamRetentionPeriod", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.DecreaseStreamRetentionPeriod(ContextOf(context),
                                                                            FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* AddTagsToStream(CallbackServerContext* context, const v1::AddTagsRequest* request,
                               v1::AddTagsResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "AddTagsToStream", *request)) {
      return Done(context, *denied);
    }
    return Done(
        context,
        ToGrpcStatus(broker_.AddTagsToStream(ContextOf(context), FromProto(*request)), *context));
  }

  grpc::ServerUnaryReactor* RemoveTagsFromStream(CallbackServerContext* context, const v1::RemoveTagsRequest* request,
                                    v1::RemoveTagsResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "RemoveTagsFromStream", *request)) {
      return Done(context, *denied);
    }
    return Done(context,
                ToGrpcStatus(broker_.RemoveTagsFromStream(ContextOf(context), FromProto(*request)),
                             *context));
  }

  grpc::ServerUnaryReactor* ListTagsForStream(CallbackServerContext* context, const v1::ListTagsRequest* request,
                                 v1::ListTagsResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "ListTagsForStream", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.ListTagsForStream(ContextOf(context), FromProto(*request)),
                               *context, *response));
  }

  grpc::ServerUnaryReactor* EnableEnhancedMonitoring(
      CallbackServerContext* context, const v1::EnhancedMonitoringRequest* request,
      v1::EnhancedMonitoringResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "EnableEnhancedMonitoring", *request)) {
      return Done(context, *denied);
    }
    return Done(context,
                Reply(broker_.EnableEnhancedMonitoring(ContextOf(context), FromProto(*request)),
                      *context, *response));
  }

  grpc::ServerUnaryReactor* DisableEnhancedMonitoring(
      CallbackServerContext* context, const v1::EnhancedMonitoringRequest* request,
      v1::EnhancedMonitoringResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DisableEnhancedMonitoring", *request)) {
      return Done(context, *denied);
    }
    return Done(context,
                Reply(broker_.DisableEnhancedMonitoring(ContextOf(context), FromProto(*request)),
                      *context, *response));
  }

  grpc::ServerUnaryReactor* StartStreamEncryption(CallbackServerContext* context,
                                                  const v1::EncryptionRequest* request,
                                                  v1::EncryptionResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "StartStreamEncryption", *request)) {
      return Done(context, *denied);
    }
    return Done(context,
                ToGrpcStatus(broker_.StartStreamEncryption(ContextOf(context), FromProto(*request)),
                             *context));
  }

  grpc::ServerUnaryReactor* StopStreamEncryption(CallbackServerContext* context,
                                                 const v1::EncryptionRequest* request,
                                                 v1::EncryptionResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "StopStreamEncryption", *request)) {
      return Done(context, *denied);
    }
    return Done(context,
                ToGrpcStatus(broker_.StopStreamEncryption(ContextOf(context), FromProto(*request)),
                             *context));
  }

  grpc::ServerUnaryReactor* UpdateStreamMode(CallbackServerContext* context,
                                             const v1::UpdateStreamModeRequest* request,
                                             v1::UpdateStreamModeResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "UpdateStreamMode", *request)) {
      return Done(context, *denied);
    }
    return Done(
        context,
        ToGrpcStatus(broker_.UpdateStreamMode(ContextOf(context), FromProto(*request)), *context));
  }

  grpc::ServerUnaryReactor* UpdateMaxRecordSize(
      CallbackServerContext* context, const v1::UpdateMaxRecordSizeRequest* request,
      v1::UpdateMaxRecordSizeResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "UpdateMaxRecordSize", *request)) {
      return Done(context, *denied);
    }
    return Done(context,
                ToGrpcStatus(broker_.UpdateMaxRecordSize(ContextOf(context), FromProto(*request)),
                             *context));
  }

  grpc::ServerUnaryReactor* DescribeLimits(CallbackServerContext* context,
                                           const v1::DescribeLimitsRequest* request,
                                           v1::DescribeLimitsResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DescribeLimits", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.DescribeLimits(ContextOf(context)), *context, *response));
  }

  grpc::ServerUnaryReactor* UpdateStreamWarmThroughput(
      CallbackServerContext* context, const v1::UpdateStreamWarmThroughputRequest* request,
      v1::UpdateStreamWarmThroughputResponse* response) override {
    if (std::optional<grpc::Status> denied =
            Deny(context, "UpdateStreamWarmThroughput", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.UpdateStreamWarmThroughput(ContextOf(context),
                                                                  FromProto(*request)),
                               *context, *response));
  }

  grpc::ServerUnaryReactor* DescribeAccountSettings(
      CallbackServerContext* context, const v1::DescribeAccountSettingsRequest* request,
      v1::DescribeAccountSettingsResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DescribeAccountSettings", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.DescribeAccountSettings(ContextOf(context)), *context,
                               *response->mutable_settings()));
  }

  grpc::ServerUnaryReactor* UpdateAccountSettings(
      CallbackServerContext* context, const v1::UpdateAccountSettingsRequest* request,
      v1::UpdateAccountSettingsResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "UpdateAccountSettings", *request)) {
      return Done(context, *denied);
    }
    return Done(context,
                Reply(broker_.UpdateAccountSettings(ContextOf(context), FromProto(*request)),
                      *context, *response->mutable_settings()));
  }

  grpc::ServerUnaryReactor* PutResourcePolicy(CallbackServerContext* context,
                                              const v1::PutResourcePolicyRequest* request,
                                              v1::PutResourcePolicyResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "PutResourcePolicy", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.PutResourcePolicy(ContextOf(context),
                                                                FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* GetResourcePolicy(CallbackServerContext* context,
                                              const v1::GetResourcePolicyRequest* request,
                                              v1::GetResourcePolicyResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "GetResourcePolicy", *request)) {
      return Done(context, *denied);
    }
    StatusOr<std::string> policy =
        broker_.GetResourcePolicy(ContextOf(context), FromProto(*request));
    if (policy.ok()) {
      response->set_policy(std::move(*policy));
    }
    return Done(context, ToGrpcStatus(policy.status(), *context));
  }

  grpc::ServerUnaryReactor* DeleteResourcePolicy(
      CallbackServerContext* context, const v1::DeleteResourcePolicyRequest* request,
      v1::DeleteResourcePolicyResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DeleteResourcePolicy", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.DeleteResourcePolicy(ContextOf(context),
                                                                   FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* DescribeCluster(CallbackServerContext* context,
                                            const v1::DescribeClusterRequest* request,
                                            v1::DescribeClusterResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DescribeCluster", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.DescribeCluster(ContextOf(context)), *context, *response));
  }

  grpc::ServerUnaryReactor* SplitShard(CallbackServerContext* context, const v1::SplitShardRequest* request,
                          v1::SplitShardResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "SplitShard", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.SplitShard(ContextOf(context), FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* MergeShards(CallbackServerContext* context, const v1::MergeShardsRequest* request,
                           v1::MergeShardsResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "MergeShards", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.MergeShards(ContextOf(context), FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* UpdateShardCount(CallbackServerContext* context, const v1::UpdateShardCountRequest* request,
                                v1::UpdateShardCountResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "UpdateShardCount", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.UpdateShardCount(ContextOf(context), FromProto(*request)),
                               *context, *response));
  }

  grpc::ServerUnaryReactor* RegisterStreamConsumer(CallbackServerContext* context,
                                      const v1::RegisterStreamConsumerRequest* request,
                                      v1::RegisterStreamConsumerResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "RegisterStreamConsumer", *request)) {
      return Done(context, *denied);
    }
    return Done(context,
                Reply(broker_.RegisterStreamConsumer(ContextOf(context), FromProto(*request)),
                      *context, *response->mutable_consumer()));
  }

  grpc::ServerUnaryReactor* DeregisterStreamConsumer(
      CallbackServerContext* context, const v1::DeregisterStreamConsumerRequest* request,
      v1::DeregisterStreamConsumerResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DeregisterStreamConsumer", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.DeregisterStreamConsumer(
                                          ContextOf(context), FromProto(request->consumer())),
                                      *context));
  }

  grpc::ServerUnaryReactor* DescribeStreamConsumer(CallbackServerContext* context,
                                      const v1::DescribeStreamConsumerRequest* request,
                                      v1::DescribeStreamConsumerResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "DescribeStreamConsumer", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.DescribeStreamConsumer(ContextOf(context),
                                                              FromProto(request->consumer())),
                               *context, *response->mutable_consumer()));
  }

  grpc::ServerUnaryReactor* CreateConsumerGroup(CallbackServerContext* context,
                                                const v1::CreateConsumerGroupRequest* request,
                                                v1::CreateConsumerGroupResponse* /*response*/)
      override {
    if (std::optional<grpc::Status> denied = Deny(context, "CreateConsumerGroup", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.CreateConsumerGroup(ContextOf(context),
                                                                  FromProto(*request)),
                                      *context, InUseMeans::kNameTaken));
  }

  grpc::ServerUnaryReactor* DeleteConsumerGroup(CallbackServerContext* context,
                                                const v1::DeleteConsumerGroupRequest* request,
                                                v1::DeleteConsumerGroupResponse* /*response*/)
      override {
    if (std::optional<grpc::Status> denied = Deny(context, "DeleteConsumerGroup", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.DeleteConsumerGroup(ContextOf(context),
                                                                  FromProto(request->group())),
                                      *context));
  }

  grpc::ServerUnaryReactor* DescribeConsumerGroup(CallbackServerContext* context,
                                                  const v1::DescribeConsumerGroupRequest* request,
                                                  v1::DescribeConsumerGroupResponse* response)
      override {
    if (std::optional<grpc::Status> denied = Deny(context, "DescribeConsumerGroup", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.DescribeConsumerGroup(ContextOf(context),
                                                             FromProto(request->group())),
                               *context, *response));
  }

  grpc::ServerUnaryReactor* LeaseShard(CallbackServerContext* context,
                                       const v1::LeaseShardRequest* request,
                                       v1::LeaseShardResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "LeaseShard", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.LeaseShard(ContextOf(context), FromProto(*request)),
                               *context, *response));
  }

  grpc::ServerUnaryReactor* ReleaseShardLease(CallbackServerContext* context,
                                              const v1::ReleaseShardLeaseRequest* request,
                                              v1::ReleaseShardLeaseResponse* /*response*/)
      override {
    if (std::optional<grpc::Status> denied = Deny(context, "ReleaseShardLease", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.ReleaseShardLease(ContextOf(context),
                                                                FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* Checkpoint(CallbackServerContext* context,
                                       const v1::CheckpointRequest* request,
                                       v1::CheckpointResponse* /*response*/) override {
    if (std::optional<grpc::Status> denied = Deny(context, "Checkpoint", *request)) {
      return Done(context, *denied);
    }
    return Done(context, ToGrpcStatus(broker_.Checkpoint(ContextOf(context), FromProto(*request)),
                                      *context));
  }

  grpc::ServerUnaryReactor* ListStreamConsumers(CallbackServerContext* context,
                                   const v1::ListStreamConsumersRequest* request,
                                   v1::ListStreamConsumersResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "ListStreamConsumers", *request)) {
      return Done(context, *denied);
    }
    return Done(context, Reply(broker_.ListStreamConsumers(ContextOf(context), FromProto(*request)),
                               *context, *response));
  }

  grpc::ServerUnaryReactor* PutRecord(CallbackServerContext* context,
                                      const v1::PutRecordRequest* request,
                                      v1::PutRecordResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "PutRecord", *request)) {
      return Done(context, *denied);
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    broker_.PutRecordAsync(ContextOf(context), FromProto(*request),
                           [context, reactor, response](StatusOr<broker::PutRecordResult> result) {
                             reactor->Finish(Reply(result, *context, *response));
                           });
    return reactor;
  }

  grpc::ServerUnaryReactor* PutRecords(CallbackServerContext* context,
                                       const v1::PutRecordsRequest* request,
                                       v1::PutRecordsResponse* response) override {
    if (std::optional<grpc::Status> denied = Deny(context, "PutRecords", *request)) {
      return Done(context, *denied);
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    broker_.PutRecordsAsync(
        ContextOf(context), FromProto(*request),
        [context, reactor, response](StatusOr<broker::PutRecordsResult> result) {
          reactor->Finish(Reply(result, *context, *response));
        });
    return reactor;
  }

  grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* SubscribeToShard(
      CallbackServerContext* context, const v1::SubscribeToShardRequest* request) override {
    if (std::optional<grpc::Status> denied = Deny(context, "SubscribeToShard", *request)) {
      return Refuse(context, *denied);
    }
    StatusOr<broker::Subscription> subscription =
        broker_.Subscribe(ContextOf(context), FromProto(*request));
    if (!subscription.ok()) {
      return Refuse(context, ToGrpcStatus(subscription.status(), *context));
    }
    return subscriptions_.Start(context, broker_, ContextOf(context),
                                std::move(subscription).value());
  }

 private:
  // The status a call gets when, with a credentials file, its bearer token names no key or a
  // key that may not run `action` on the stream `request` names, or when the caller has made
  // more `action` calls than AWS's rate allows; nullopt when it may go on.
  std::optional<grpc::Status> Deny(CallbackServerContext* context, std::string_view action,
                                   const google::protobuf::Message& request) const {
    const std::string stream = StreamNamed(request);
    Status allowed;
    if (credentials_ != nullptr) {
      StatusOr<std::shared_ptr<const auth::AccessKey>> key = CallerOf(context);
      allowed = key.status();
      if (allowed.ok()) {
        allowed = auth::Authorize(key->get(), action, stream, ContextOf(context).region);
      }
    }
    if (allowed.ok()) {
      allowed = broker_.AdmitCall(ContextOf(context), action, stream);
    }
    if (allowed.ok()) {
      return std::nullopt;
    }
    return ToGrpcStatus(allowed, *context);
  }

  StatusOr<std::shared_ptr<const auth::AccessKey>> CallerOf(
      const CallbackServerContext* context) const {
    return grpc_api::CallerOf(*credentials_->keys(), *context);
  }

  // The server's account and region, or those the call names in its metadata: the nodes of a
  // cluster forward calls with the caller's. With a credentials file, the caller's key (Deny
  // has admitted it) and its account.
  broker::RequestContext ContextOf(const CallbackServerContext* context) const {
    broker::RequestContext ctx = ctx_;
    if (credentials_ != nullptr) {
      StatusOr<std::shared_ptr<const auth::AccessKey>> key = CallerOf(context);
      if (key.ok()) {
        ctx.account = (*key)->account;
        ctx.caller = std::move(key).value();
      }
    }
    const auto& metadata = context->client_metadata();
    // A node's own calls carry the cluster key, and the account of the call they make.
    if (auto it = metadata.find(kAccountMetadata);
        it != metadata.end() && (!ctx.caller || ctx.caller->cluster)) {
      ctx.account.assign(it->second.data(), it->second.size());
    }
    if (auto it = metadata.find(kRegionMetadata); it != metadata.end()) {
      ctx.region.assign(it->second.data(), it->second.size());
    }
    if (auto it = metadata.find(kHopsMetadata); it != metadata.end()) {
      const std::string_view text(it->second.data(), it->second.size());
      int hops = 0;
      std::from_chars(text.data(), text.data() + text.size(), hops);
      ctx.hops = std::clamp(hops, 0, kMaxHops);
    }
    return ctx;
  }

  template <typename Result, typename Response>
  static grpc::Status Reply(const StatusOr<Result>& result, grpc::ServerContextBase& context,
                            Response& response) {
    if (result.ok()) {
      ToProto(*result, response);
    }
    return ToGrpcStatus(result.status(), context);
  }

  static grpc::ServerUnaryReactor* Done(CallbackServerContext* context,
                                        const grpc::Status& status) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  // A stream that ends before its first message.
  static grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* Refuse(
      CallbackServerContext*, const grpc::Status& status) {
    class Refused final : public grpc::ServerWriteReactor<v1::SubscribeToShardEvent> {
     public:
      explicit Refused(const grpc::Status& status) { Finish(status); }
      void OnDone() override { delete this; }
    };
    return new Refused(status);
  }

  broker::Broker& broker_;
  const broker::RequestContext ctx_;
  const auth::Credentials* const credentials_;  // null: no credentials file
  SubscriptionRunner subscriptions_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewRiffleService(broker::Broker& broker,
                                                broker::RequestContext context,
                                                const Clock& clock,
                                                const std::atomic<bool>& stopping,
                                                const auth::Credentials* credentials,
                                                std::function<void()>& wake_subscriptions) {
  auto service =
      std::make_unique<RiffleService>(broker, std::move(context), clock, stopping, credentials);
  wake_subscriptions = [s = service.get()] { s->WakeSubscriptions(); };
  return service;
}

}  // namespace riffle::grpc_api
