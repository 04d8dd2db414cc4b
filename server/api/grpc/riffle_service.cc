#include "server/api/grpc/riffle_service.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#include <grpcpp/server_context.h>
#include <grpcpp/support/sync_stream.h>

#include "riffle/v1/riffle.grpc.pb.h"
#include "server/api/grpc/convert.h"
#include "server/api/grpc/error_map.h"

namespace riffle::grpc_api {
namespace {

using grpc::ServerContext;

// How long SubscribeToShard stays silent before an empty event tells the client that it is
// still open, as over the Kinesis HTTP API.
constexpr std::chrono::seconds kSubscriptionHeartbeat{5};
// How often an idle subscription looks for a cancelled call or a server shutting down.
constexpr std::chrono::milliseconds kCancellationCheck{100};

class RiffleService final : public v1::Riffle::Service {
 public:
  RiffleService(broker::Broker& broker, broker::RequestContext context,
                const std::atomic<bool>& stopping, std::chrono::milliseconds subscription_poll)
      : broker_(broker),
        ctx_(std::move(context)),
        stopping_(stopping),
        subscription_poll_(subscription_poll),
        append_listener_(broker_.AddAppendListener([this] {
          {
            std::lock_guard lock(appends_mu_);
            ++appends_;
          }
          appended_.notify_all();
        })) {}

  ~RiffleService() override { broker_.RemoveAppendListener(append_listener_); }

  grpc::Status CreateStream(ServerContext* context, const v1::CreateStreamRequest* request,
                            v1::CreateStreamResponse* /*response*/) override {
    return ToGrpcStatus(broker_.CreateStream(ctx_, FromProto(*request)), *context,
                        InUseMeans::kNameTaken);
  }

  grpc::Status DeleteStream(ServerContext* context, const v1::DeleteStreamRequest* request,
                            v1::DeleteStreamResponse* /*response*/) override {
    return ToGrpcStatus(broker_.DeleteStream(ctx_, FromProto(*request)), *context);
  }

  grpc::Status DescribeStream(ServerContext* context, const v1::DescribeStreamRequest* request,
                              v1::DescribeStreamResponse* response) override {
    StatusOr<broker::StreamDescription> result = broker_.DescribeStream(ctx_, FromProto(*request));
    if (result.ok()) {
      ToProto(*result, *response->mutable_description());
    }
    return ToGrpcStatus(result.status(), *context);
  }

  grpc::Status ListStreams(ServerContext* context, const v1::ListStreamsRequest* request,
                           v1::ListStreamsResponse* response) override {
    return Reply(broker_.ListStreams(ctx_, FromProto(*request)), *context, *response);
  }

  grpc::Status ListShards(ServerContext* context, const v1::ListShardsRequest* request,
                          v1::ListShardsResponse* response) override {
    return Reply(broker_.ListShards(ctx_, FromProto(*request)), *context, *response);
  }

  grpc::Status PutRecord(ServerContext* context, const v1::PutRecordRequest* request,
                         v1::PutRecordResponse* response) override {
    return Reply(broker_.PutRecord(ctx_, FromProto(*request)), *context, *response);
  }

  grpc::Status PutRecords(ServerContext* context, const v1::PutRecordsRequest* request,
                          v1::PutRecordsResponse* response) override {
    return Reply(broker_.PutRecords(ctx_, FromProto(*request)), *context, *response);
  }

  grpc::Status GetShardIterator(ServerContext* context, const v1::GetShardIteratorRequest* request,
                                v1::GetShardIteratorResponse* response) override {
    StatusOr<std::string> result = broker_.GetShardIterator(ctx_, FromProto(*request));
    if (result.ok()) {
      response->set_shard_iterator(std::move(result).value());
    }
    return ToGrpcStatus(result.status(), *context);
  }

  grpc::Status GetRecords(ServerContext* context, const v1::GetRecordsRequest* request,
                          v1::GetRecordsResponse* response) override {
    StatusOr<broker::GetRecordsResult> result = broker_.GetRecords(ctx_, FromProto(*request));
    if (result.ok()) {
      ToProto(std::move(result).value(), *response);
      return grpc::Status::OK;
    }
    return ToGrpcStatus(result.status(), *context);
  }

  grpc::Status IncreaseStreamRetentionPeriod(ServerContext* context,
                                             const v1::RetentionRequest* request,
                                             v1::RetentionResponse* /*response*/) override {
    return ToGrpcStatus(broker_.IncreaseStreamRetentionPeriod(ctx_, FromProto(*request)), *context);
  }

  grpc::Status DecreaseStreamRetentionPeriod(ServerContext* context,
                                             const v1::RetentionRequest* request,
                                             v1::RetentionResponse* /*response*/) override {
    return ToGrpcStatus(broker_.DecreaseStreamRetentionPeriod(ctx_, FromProto(*request)), *context);
  }

  grpc::Status AddTagsToStream(ServerContext* context, const v1::AddTagsRequest* request,
                               v1::AddTagsResponse* /*response*/) override {
    return ToGrpcStatus(broker_.AddTagsToStream(ctx_, FromProto(*request)), *context);
  }

  grpc::Status RemoveTagsFromStream(ServerContext* context, const v1::RemoveTagsRequest* request,
                                    v1::RemoveTagsResponse* /*response*/) override {
    return ToGrpcStatus(broker_.RemoveTagsFromStream(ctx_, FromProto(*request)), *context);
  }

  grpc::Status ListTagsForStream(ServerContext* context, const v1::ListTagsRequest* request,
                                 v1::ListTagsResponse* response) override {
    return Reply(broker_.ListTagsForStream(ctx_, FromProto(*request)), *context, *response);
  }

  grpc::Status SplitShard(ServerContext* context, const v1::SplitShardRequest* request,
                          v1::SplitShardResponse* /*response*/) override {
    return ToGrpcStatus(broker_.SplitShard(ctx_, FromProto(*request)), *context);
  }

  grpc::Status MergeShards(ServerContext* context, const v1::MergeShardsRequest* request,
                           v1::MergeShardsResponse* /*response*/) override {
    return ToGrpcStatus(broker_.MergeShards(ctx_, FromProto(*request)), *context);
  }

  grpc::Status UpdateShardCount(ServerContext* context, const v1::UpdateShardCountRequest* request,
                                v1::UpdateShardCountResponse* response) override {
    return Reply(broker_.UpdateShardCount(ctx_, FromProto(*request)), *context, *response);
  }

  grpc::Status RegisterStreamConsumer(ServerContext* context,
                                      const v1::RegisterStreamConsumerRequest* request,
                                      v1::RegisterStreamConsumerResponse* response) override {
    return Reply(broker_.RegisterStreamConsumer(ctx_, FromProto(*request)), *context,
                 *response->mutable_consumer());
  }

  grpc::Status DeregisterStreamConsumer(
      ServerContext* context, const v1::DeregisterStreamConsumerRequest* request,
      v1::DeregisterStreamConsumerResponse* /*response*/) override {
    return ToGrpcStatus(broker_.DeregisterStreamConsumer(ctx_, FromProto(request->consumer())),
                        *context);
  }

  grpc::Status DescribeStreamConsumer(ServerContext* context,
                                      const v1::DescribeStreamConsumerRequest* request,
                                      v1::DescribeStreamConsumerResponse* response) override {
    return Reply(broker_.DescribeStreamConsumer(ctx_, FromProto(request->consumer())), *context,
                 *response->mutable_consumer());
  }

  grpc::Status ListStreamConsumers(ServerContext* context,
                                   const v1::ListStreamConsumersRequest* request,
                                   v1::ListStreamConsumersResponse* response) override {
    return Reply(broker_.ListStreamConsumers(ctx_, FromProto(*request)), *context, *response);
  }

  // The sync server gives each call its own thread, so this one waits on it: the broker never
  // blocks waiting for records (NextEvent); an idle subscription sleeps until an append or the
  // poll interval.
  grpc::Status SubscribeToShard(ServerContext* context, const v1::SubscribeToShardRequest* request,
                                grpc::ServerWriter<v1::SubscribeToShardEvent>* writer) override {
    StatusOr<broker::Subscription> subscription = broker_.Subscribe(ctx_, FromProto(*request));
    if (!subscription.ok()) {
      return ToGrpcStatus(subscription.status(), *context);
    }
    // Due at once: the first event tells the client that the subscription is open.
    auto last_sent = std::chrono::steady_clock::now() - kSubscriptionHeartbeat;
    while (true) {
      if (stopping_.load()) {
        return ToGrpcStatus(Status(ErrorCode::kServiceUnavailable,
                                   "riffled is shutting down; subscribe again after the last "
                                   "continuation sequence number"),
                            *context);
      }
      if (context->IsCancelled()) {
        return grpc::Status::CANCELLED;
      }
      const uint64_t appends_seen = Appends();  // before looking, so no append slips between
      StatusOr<broker::SubscriptionEvent> event = broker_.NextEvent(ctx_, *subscription);
      if (!event.ok()) {
        return ToGrpcStatus(event.status(), *context);
      }
      const auto now = std::chrono::steady_clock::now();
      const bool has_records = !event->records.empty();
      const bool ended = event->shard_ended;
      if (!has_records && !ended && now - last_sent < kSubscriptionHeartbeat) {
        // Idle until an append or the poll interval, looking every so often for a client that
        // went away or a server going down, which nothing notifies.
        const auto look_again = now + subscription_poll_;
        std::unique_lock lock(appends_mu_);
        while (appends_ == appends_seen && !stopping_.load() && !context->IsCancelled()) {
          const auto left = look_again - std::chrono::steady_clock::now();
          if (left <= std::chrono::steady_clock::duration::zero()) {
            break;
          }
          appended_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(
                                       left, kCancellationCheck));
        }
        continue;
      }
      v1::SubscribeToShardEvent message;
      ToProto(std::move(event).value(), message);
      if (!writer->Write(message)) {
        return grpc::Status::CANCELLED;  // the client went away
      }
      last_sent = now;
      if (ended) {
        return grpc::Status::OK;
      }
      // An event with records may have left more behind (it holds ~1 MiB): ask again at once.
    }
  }

 private:
  uint64_t Appends() {
    std::lock_guard lock(appends_mu_);
    return appends_;
  }

  template <typename Result, typename Response>
  static grpc::Status Reply(const StatusOr<Result>& result, ServerContext& context,
                            Response& response) {
    if (result.ok()) {
      ToProto(*result, response);
    }
    return ToGrpcStatus(result.status(), context);
  }

  broker::Broker& broker_;
  const broker::RequestContext ctx_;
  const std::atomic<bool>& stopping_;
  const std::chrono::milliseconds subscription_poll_;
  // Appends so far, counted by the broker's append listener; idle subscriptions wait on it.
  std::mutex appends_mu_;
  std::condition_variable appended_;
  uint64_t appends_ = 0;  // guarded by appends_mu_
  const int append_listener_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewRiffleService(broker::Broker& broker,
                                                broker::RequestContext context,
                                                const std::atomic<bool>& stopping,
                                                std::chrono::milliseconds subscription_poll) {
  return std::make_unique<RiffleService>(broker, std::move(context), stopping,
                                         subscription_poll);
}

}  // namespace riffle::grpc_api
