#include "server/cluster/peer_client.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/client_interceptor.h>

#include "riffle/v1/riffle.grpc.pb.h"
#include "server/cluster/peer_convert.h"

namespace riffle::cluster {
namespace {

using broker::RequestContext;
using Stub = v1::Riffle::Stub;

// Names riffle.proto gives the request metadata and the error trailer.
constexpr char kAccountMetadata[] = "riffle-account";
constexpr char kRegionMetadata[] = "riffle-region";
constexpr char kHopsMetadata[] = "riffle-hops";
constexpr char kErrorCodeTrailer[] = "riffle-error-code";
constexpr char kAuthorizationMetadata[] = "authorization";

// A GetRecords answer holds up to 10 MiB of data plus up to 10000 keys and sequence numbers;
// gRPC's default receive limit of 4 MiB would refuse it.
constexpr int kMaxReceiveMessageBytes = 64 * 1024 * 1024;
// gRPC waits up to 2 minutes between attempts to reach a peer that was down; a node that comes
// back should get its forwarded calls again at once.
constexpr int kMaxReconnectBackoffMs = 1000;

// A write that timed out may have happened; a read that did not changed nothing.
enum class Effect { kRead, kWrite };

template <typename Request, typename Response>
using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);
template <typename Request, typename Response>
using AsyncMethod = void (Stub::async::*)(grpc::ClientContext*, const Request*, Response*,
                                          std::function<void(grpc::Status)>);

// How often a peer channel looks at the TLS files for a renewed certificate (as the server does).
constexpr unsigned int kTlsRefreshSeconds = 5;

// Sends the cluster key on each call that carries no caller's key of its own.
class ClusterKeyInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ClusterKeyInterceptor(std::function<std::string()> authorization)
      : authorization_(std::move(authorization)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* metadata = methods->GetSendInitialMetadata();
      if (metadata->find(kAuthorizationMetadata) == metadata->end()) {
        if (std::string value = authorization_(); !value.empty()) {
          metadata->emplace(kAuthorizationMetadata, std::move(value));
        }
      }
    }
    methods->Proceed();
  }

 private:
  const std::function<std::string()> authorization_;
};

class ClusterKeyInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ClusterKeyInterceptorFactory(std::function<std::string()> authorization)
      : authorization_(std::move(authorization)) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new ClusterKeyInterceptor(authorization_);
  }

 private:
  const std::function<std::string()> authorization_;
};

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> NewPeerTlsCredentials(const std::string& cert_file,
                                                                const std::string& key_file,
                                                                const std::string& ca_file) {
  auto files = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      key_file, cert_file, ca_file, kTlsRefreshSeconds);
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(files);
  options.watch_identity_key_cert_pairs();
  if (!ca_file.empty()) {
    options.watch_root_certs();
  }
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

std::shared_ptr<grpc::Channel> NewPeerChannel(const std::string& address,
                                              const PeerSecurity& security) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  std::shared_ptr<grpc::ChannelCredentials> credentials = security.channel_credentials != nullptr
                                                              ? security.channel_credentials
                                                              : grpc::InsecureChannelCredentials();
  if (!security.authorization) {
    return grpc::CreateCustomChannel(address, credentials, args);
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<ClusterKeyInterceptorFactory>(security.authorization));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                 std::move(interceptors));
}

class PeerClient::Rpc : public std::enable_shared_from_this<Rpc> {
 public:
  Rpc(const std::shared_ptr<grpc::Channel>& channel, PeerClientOptions options)
      : stub_(v1::Riffle::NewStub(channel)), options_(std::move(options)) {}

  // `deadline` replaces the options' for a call known to take longer.
  template <typename Request, typename Response>
  Status Call(Method<Request, Response> method, const RequestContext& ctx, const Request& request,
              Response& response, Effect effect,
              std::optional<std::chrono::milliseconds> deadline = std::nullopt) {
    grpc::ClientContext context;
    Prepare(ctx, context, deadline.value_or(options_.deadline));
    grpc::Status status = ((*stub_).*method)(&context, request, &response);
    return ToStatus(status, context, effect, deadline.value_or(options_.deadline));
  }

  // Every asynchronous call is a write. The call's state lives until its callback has run, and
  // holds this Rpc, whose stub the call uses.
  template <typename Request, typename Response, typename Result>
  void CallAsync(AsyncMethod<Request, Response> method, const RequestContext& ctx, Request request,
                 std::function<void(StatusOr<Result>)> done) {
    struct Call {
      grpc::ClientContext context;
      Request request;
      Response response;
    };
    auto call = std::make_shared<Call>();
    call->request = std::move(request);
    Prepare(ctx, call->context, options_.deadline);
    ((*stub_->async()).*method)(
        &call->context, &call->request, &call->response,
        [self = shared_from_this(), call, done = std::move(done)](grpc::Status status) {
          Status failed =
              self->ToStatus(status, call->context, Effect::kWrite, self->options_.deadline);
          if (failed.ok()) {
            done(FromProto(call->response));
          } else {
            done(std::move(failed));
          }
        });
  }

 private:
  void Prepare(const RequestContext& ctx, grpc::ClientContext& context,
               std::chrono::milliseconds deadline) const {
    context.AddMetadata(kAccountMetadata, ctx.account);
    context.AddMetadata(kRegionMetadata, ctx.region);
    context.AddMetadata(kHopsMetadata, std::to_string(ctx.hops + 1));
    if (ctx.caller != nullptr) {
      // The peer authorizes the call as the caller's own, with the same credentials file.
      context.AddMetadata(kAuthorizationMetadata,
                          "Bearer " + ctx.caller->id + ":" + ctx.caller->secret);
    }
    context.set_deadline(std::chrono::system_clock::now() + deadline);
  }

  Status ToStatus(const grpc::Status& status, const grpc::ClientContext& context, Effect effect,
                  std::chrono::milliseconds deadline) const {
    if (status.ok()) {
      return Status();
    }
    const auto& trailers = context.GetServerTrailingMetadata();
    if (auto it = trailers.find(kErrorCodeTrailer); it != trailers.end()) {
      std::string_view name(it->second.data(), it->second.size());
      std::optional<ErrorCode> code = ErrorCodeFromKinesisName(name);
      if (code && *code != ErrorCode::kOk) {
        return Status(*code, status.error_message());
      }
      // A code from a newer peer: keep its name where a user sees it.
      return Status(ErrorCode::kInternalFailure, std::string(name) + ": " + status.error_message());
    }
    // No trailer: the peer's broker did not answer.
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      std::string message = options_.name + " did not answer within " +
                            std::to_string(deadline.count()) + " ms";
      if (effect == Effect::kWrite) {
        return Status(ErrorCode::kInternalFailure,
                      message + "; whether the write happened is unknown");
      }
      return Status(ErrorCode::kServiceUnavailable, message);
    }
    return Status(ErrorCode::kServiceUnavailable,
                  options_.name + " is unavailable: " + status.error_message());
  }

  std::unique_ptr<Stub> stub_;
  const PeerClientOptions options_;
};

PeerClient::PeerClient(std::shared_ptr<grpc::Channel> channel, PeerClientOptions options)
    : rpc_(std::make_shared<Rpc>(channel, std::move(options))) {}

PeerClient::~PeerClient() = default;

Status PeerClient::CreateStream(const RequestContext& ctx, const broker::CreateStreamRequest& req) {
  v1::CreateStreamResponse response;
  return rpc_->Call(&Stub::CreateStream, ctx, ToProto(req), response, Effect::kWrite);
}

Status PeerClient::DeleteStream(const RequestContext& ctx, const broker::DeleteStreamRequest& req) {
  v1::DeleteStreamResponse response;
  return rpc_->Call(&Stub::DeleteStream, ctx, ToProto(req), response, Effect::kWrite);
}

StatusOr<broker::StreamDescription> PeerClient::DescribeStream(
    const RequestContext& ctx, const broker::DescribeStreamRequest& req) {
  v1::DescribeStreamResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::DescribeStream, ctx, ToProto(req), response, Effect::kRead));
  return FromProto(response.description());
}

StatusOr<broker::StreamDescription> PeerClient::DescribeStreamSummary(
    const RequestContext& ctx, const broker::StreamRef& stream) {
  v1::DescribeStreamSummaryResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::DescribeStreamSummary, ctx, ToProto(stream), response, Effect::kRead));
  return FromProto(response.description());
}

StatusOr<broker::ListStreamsResult> PeerClient::ListStreams(const RequestContext& ctx,
                                                            const broker::ListStreamsRequest& req) {
  v1::ListStreamsResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::ListStreams, ctx, ToProto(req), response, Effect::kRead));
  return FromProto(response);
}

StatusOr<broker::ListShardsResult> PeerClient::ListShards(const RequestContext& ctx,
                                                          const broker::ListShardsRequest& req) {
  v1::ListShardsResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&Stub::ListShards, ctx, ToProto(req), response, Effect::kRead));
  return FromProto(response);
}

void PeerClient::PutRecordAsync(const RequestContext& ctx, const broker::PutRecordRequest& req,
                                std::function<void(StatusOr<broker::PutRecordResult>)> done) {
  rpc_->CallAsync(&Stub::async::PutRecord, ctx, ToProto(req), std::move(done));
}

void PeerClient::PutRecordsAsync(const RequestContext& ctx, const broker::PutRecordsRequest& req,
                                 std::function<void(StatusOr<broker::PutRecordsResult>)> done) {
  rpc_->CallAsync(&Stub::async::PutRecords, ctx, ToProto(req), std::move(done));
}

StatusOr<std::string> PeerClient::GetShardIterator(const RequestContext& ctx,
                                                   const broker::GetShardIteratorRequest& req) {
  v1::GetShardIteratorResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::GetShardIterator, ctx, ToProto(req), response, Effect::kRead));
  return std::move(*response.mutable_shard_iterator());
}

StatusOr<broker::GetRecordsResult> PeerClient::GetRecords(const RequestContext& ctx,
                                                          const broker::GetRecordsRequest& req) {
  v1::GetRecordsResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&Stub::GetRecords, ctx, ToProto(req), response, Effect::kRead));
  return FromProto(std::move(response));
}

Status PeerClient::IncreaseStreamRetentionPeriod(const RequestContext& ctx,
                                                 const broker::RetentionRequest& req) {
  v1::RetentionResponse response;
  return rpc_->Call(&Stub::IncreaseStreamRetentionPeriod, ctx, ToProto(req), response,
                    Effect::kWrite);
}

Status PeerClient::DecreaseStreamRetentionPeriod(const RequestContext& ctx,
                                                 const broker::RetentionRequest& req) {
  v1::RetentionResponse response;
  return rpc_->Call(&Stub::DecreaseStreamRetentionPeriod, ctx, ToProto(req), response,
                    Effect::kWrite);
}

Status PeerClient::AddTagsToStream(const RequestContext& ctx, const broker::AddTagsRequest& req) {
  v1::AddTagsResponse response;
  return rpc_->Call(&Stub::AddTagsToStream, ctx, ToProto(req), response, Effect::kWrite);
}

Status PeerClient::RemoveTagsFromStream(const RequestContext& ctx,
                                        const broker::RemoveTagsRequest& req) {
  v1::RemoveTagsResponse response;
  return rpc_->Call(&Stub::RemoveTagsFromStream, ctx, ToProto(req), response, Effect::kWrite);
}

StatusOr<broker::ListTagsResult> PeerClient::ListTagsForStream(const RequestContext& ctx,
                                                               const broker::ListTagsRequest& req) {
  v1::ListTagsResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::ListTagsForStream, ctx, ToProto(req), response, Effect::kRead));
  return FromProto(response);
}

StatusOr<broker::EnhancedMonitoringResult> PeerClient::EnableEnhancedMonitoring(
    const RequestContext& ctx, const broker::EnhancedMonitoringRequest& req) {
  v1::EnhancedMonitoringResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::EnableEnhancedMonitoring, ctx, ToProto(req), response, Effect::kWrite));
  return FromProto(response);
}

StatusOr<broker::EnhancedMonitoringResult> PeerClient::DisableEnhancedMonitoring(
    const RequestContext& ctx, const broker::EnhancedMonitoringRequest& req) {
  v1::EnhancedMonitoringResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::DisableEnhancedMonitoring, ctx, ToProto(req), response, Effect::kWrite));
  return FromProto(response);
}

Status PeerClient::StartStreamEncryption(const RequestContext& ctx,
                                         const broker::EncryptionRequest& req) {
  v1::EncryptionResponse response;
  return rpc_->Call(&Stub::StartStreamEncryption, ctx, ToProto(req), response, Effect::kWrite);
}

Status PeerClient::StopStreamEncryption(const RequestContext& ctx,
                                        const broker::EncryptionRequest& req) {
  v1::EncryptionResponse response;
  return rpc_->Call(&Stub::StopStreamEncryption, ctx, ToProto(req), response, Effect::kWrite);
}

Status PeerClient::UpdateStreamMode(const RequestContext& ctx,
                                    const broker::UpdateStreamModeRequest& req) {
  v1::UpdateStreamModeResponse response;
  return rpc_->Call(&Stub::UpdateStreamMode, ctx, ToProto(req), response, Effect::kWrite);
}

Status PeerClient::UpdateMaxRecordSize(const RequestContext& ctx,
                                       const broker::UpdateMaxRecordSizeRequest& req) {
  v1::UpdateMaxRecordSizeResponse response;
  return rpc_->Call(&Stub::UpdateMaxRecordSize, ctx, ToProto(req), response, Effect::kWrite);
}

StatusOr<broker::DescribeLimitsResult> PeerClient::DescribeLimits(const RequestContext& ctx) {
  v1::DescribeLimitsResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::DescribeLimits, ctx, v1::DescribeLimitsRequest(), response, Effect::kRead));
  return FromProto(response);
}

StatusOr<broker::WarmThroughputResult> PeerClient::UpdateStreamWarmThroughput(
    const RequestContext& ctx, const broker::UpdateWarmThroughputRequest& req) {
  v1::UpdateStreamWarmThroughputResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&Stub::UpdateStreamWarmThroughput, ctx, ToProto(req),
                                    response, Effect::kWrite));
  return FromProto(response);
}

StatusOr<broker::AccountSettings> PeerClient::UpdateAccountSettings(
    const RequestContext& ctx, const broker::UpdateAccountSettingsRequest& req) {
  v1::UpdateAccountSettingsResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::UpdateAccountSettings, ctx, ToProto(req), response, Effect::kWrite));
  return FromProto(response.settings());
}

Status PeerClient::PutResourcePolicy(const RequestContext& ctx,
                                     const broker::ResourcePolicyRequest& req) {
  v1::PutResourcePolicyResponse response;
  return rpc_->Call(&Stub::PutResourcePolicy, ctx, ToProto(req), response, Effect::kWrite);
}

Status PeerClient::DeleteResourcePolicy(const RequestContext& ctx,
                                        const broker::ResourcePolicyRequest& req) {
  v1::DeleteResourcePolicyRequest request;
  request.set_resource_arn(req.resource_arn.value_or(""));
  v1::DeleteResourcePolicyResponse response;
  return rpc_->Call(&Stub::DeleteResourcePolicy, ctx, request, response, Effect::kWrite);
}

Status PeerClient::SplitShard(const RequestContext& ctx, const broker::SplitShardRequest& req) {
  v1::SplitShardResponse response;
  return rpc_->Call(&Stub::SplitShard, ctx, ToProto(req), response, Effect::kWrite,
                    kReshardDeadline);
}

Status PeerClient::MergeShards(const RequestContext& ctx, const broker::MergeShardsRequest& req) {
  v1::MergeShardsResponse response;
  return rpc_->Call(&Stub::MergeShards, ctx, ToProto(req), response, Effect::kWrite,
                    kReshardDeadline);
}

StatusOr<broker::UpdateShardCountResult> PeerClient::UpdateShardCount(
    const RequestContext& ctx, const broker::UpdateShardCountRequest& req) {
  v1::UpdateShardCountResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::UpdateShardCount, ctx, ToProto(req), response, Effect::kWrite,
                 kReshardDeadline));
  return FromProto(response);
}

StatusOr<broker::ConsumerDescription> PeerClient::RegisterStreamConsumer(
    const RequestContext& ctx, const broker::RegisterConsumerRequest& req) {
  v1::RegisterStreamConsumerResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::RegisterStreamConsumer, ctx, ToProto(req), response, Effect::kWrite));
  return FromProto(response.consumer());
}

Status PeerClient::DeregisterStreamConsumer(const RequestContext& ctx,
                                            const broker::ConsumerRef& req) {
  v1::DeregisterStreamConsumerRequest request;
  *request.mutable_consumer() = ToProto(req);
  v1::DeregisterStreamConsumerResponse response;
  return rpc_->Call(&Stub::DeregisterStreamConsumer, ctx, request, response, Effect::kWrite);
}

StatusOr<broker::ConsumerDescription> PeerClient::DescribeStreamConsumer(
    const RequestContext& ctx, const broker::ConsumerRef& req) {
  v1::DescribeStreamConsumerRequest request;
  *request.mutable_consumer() = ToProto(req);
  v1::DescribeStreamConsumerResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::DescribeStreamConsumer, ctx, request, response, Effect::kRead));
  return FromProto(response.consumer());
}

StatusOr<broker::ListConsumersResult> PeerClient::ListStreamConsumers(
    const RequestContext& ctx, const broker::ListConsumersRequest& req) {
  v1::ListStreamConsumersResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::ListStreamConsumers, ctx, ToProto(req), response, Effect::kRead));
  return FromProto(response);
}

Status PeerClient::CreateConsumerGroup(const RequestContext& ctx,
                                       const broker::CreateGroupRequest& req) {
  v1::CreateConsumerGroupResponse response;
  return rpc_->Call(&Stub::CreateConsumerGroup, ctx, ToProto(req), response, Effect::kWrite);
}

Status PeerClient::DeleteConsumerGroup(const RequestContext& ctx, const broker::GroupRef& req) {
  v1::DeleteConsumerGroupRequest request;
  *request.mutable_group() = ToProto(req);
  v1::DeleteConsumerGroupResponse response;
  return rpc_->Call(&Stub::DeleteConsumerGroup, ctx, request, response, Effect::kWrite);
}

StatusOr<broker::GroupDescription> PeerClient::DescribeConsumerGroup(const RequestContext& ctx,
                                                                     const broker::GroupRef& req) {
  v1::DescribeConsumerGroupRequest request;
  *request.mutable_group() = ToProto(req);
  v1::DescribeConsumerGroupResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::DescribeConsumerGroup, ctx, request, response, Effect::kRead));
  return FromProto(response);
}

StatusOr<broker::ShardLease> PeerClient::LeaseShard(const RequestContext& ctx,
                                                    const broker::LeaseShardRequest& req) {
  v1::LeaseShardResponse response;
  RIFFLE_RETURN_IF_ERROR(
      rpc_->Call(&Stub::LeaseShard, ctx, ToProto(req), response, Effect::kWrite));
  return FromProto(response);
}

Status PeerClient::ReleaseShardLease(const RequestContext& ctx,
                                     const broker::ReleaseLeaseRequest& req) {
  v1::ReleaseShardLeaseResponse response;
  return rpc_->Call(&Stub::ReleaseShardLease, ctx, ToProto(req), response, Effect::kWrite);
}

Status PeerClient::Checkpoint(const RequestContext& ctx, const broker::CheckpointRequest& req) {
  v1::CheckpointResponse response;
  return rpc_->Call(&Stub::Checkpoint, ctx, ToProto(req), response, Effect::kWrite);
}

}  // namespace riffle::cluster
