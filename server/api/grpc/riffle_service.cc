#include "server/api/grpc/riffle_service.h"

#include <chrono>
#include <thread>
#include <utility>

#include <grpcpp/server_context.h>
#include <grpcpp/support/sync_stream.h>

#include "riffle/v1/riffle.grpc.pb.h"
#include "server/api/grpc/convert.h"
#include "server/api/grpc/error_map.h"

namespace riffle::grpc_api {
namespace {

using grpc::ServerContext;

// SubscribeToShard's pace, as over the Kinesis HTTP API: how often an idle subscription asks the
// broker for new records, and how long it stays silent before an empty event tells the client
// that it is still open.
constexpr std::chrono::milliseconds kSubscriptionPoll{50};
constexpr std::chrono::seconds kSubscriptionHeartbeat{5};

class RiffleService final : public v1::Riffle::Service {
 public:
  RiffleService(broker::Broker& broker, broker::RequestContext context,
                const std::atomic<bool>& stopping)
      : broker_(broker), ctx_(std::move(context)), stopping_(stopping) {}

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

  // The sync server gives each call its own thread, so this one polls the broker on it: the
  // broker never blocks waiting for records (NextEvent), the transport sets the pace.
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
      StatusOr<broker::SubscriptionEvent> event = broker_.NextEvent(ctx_, *subscription);
      if (!event.ok()) {
        return ToGrpcStatus(event.status(), *context);
      }
      const auto now = std::chrono::steady_clock::now();
      const bool has_records = !event->records.empty();
      const bool ended = event->shard_ended;
      if (!has_records && !ended && now - last_sent < kSubscriptionHeartbeat) {
        std::this_thread::sleep_for(kSubscriptionPoll);
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
};

}  // namespace

std::unique_ptr<grpc::Service> NewRiffleService(broker::Broker& broker,
                                                broker::RequestContext context,
                                                const std::atomic<bool>& stopping) {
  return std::make_unique<RiffleService>(broker, std::move(context), stopping);
}

}  // namespace riffle::grpc_api
