#include "server/api/grpc/riffle_service.h"

#include <utility>

#include <grpcpp/server_context.h>

#include "riffle/v1/riffle.grpc.pb.h"
#include "server/api/grpc/convert.h"
#include "server/api/grpc/error_map.h"

namespace riffle::grpc_api {
namespace {

using grpc::ServerContext;

class RiffleService final : public v1::Riffle::Service {
 public:
  RiffleService(broker::Broker& broker, broker::RequestContext context)
      : broker_(broker), ctx_(std::move(context)) {}

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
};

}  // namespace

std::unique_ptr<grpc::Service> NewRiffleService(broker::Broker& broker,
                                                broker::RequestContext context) {
  return std::make_unique<RiffleService>(broker, std::move(context));
}

}  // namespace riffle::grpc_api
