#include "server/api/grpc/grpc_server.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <thread>

#include "riffle/v1/riffle.grpc.pb.h"

namespace riffle::grpc_api {
namespace {

using ::testing::Optional;

// Answers every call with `error` when set, else with a canned result, and keeps the last
// request of the calls the tests look at.
class FakeBroker final : public broker::Broker {
 public:
  std::optional<Status> error;
  broker::CreateStreamRequest last_create;
  broker::PutRecordRequest last_put;
  broker::GetShardIteratorRequest last_iterator_request;
  size_t last_put_records_bytes = 0;
  broker::SplitShardRequest last_split;
  broker::MergeShardsRequest last_merge;
  broker::UpdateShardCountRequest last_scale;

  Status CreateStream(const broker::RequestContext&,
                      const broker::CreateStreamRequest& req) override {
    last_create = req;
    return Answer();
  }
  Status DeleteStream(const broker::RequestContext&, const broker::DeleteStreamRequest&) override {
    return Answer();
  }
  StatusOr<broker::StreamDescription> DescribeStream(
      const broker::RequestContext& ctx, const broker::DescribeStreamRequest& req) override {
    if (error) {
      return *error;
    }
    broker::StreamDescription description;
    description.stream_name = req.stream.name.value_or("");
    description.stream_arn =
        "arn:aws:kinesis:" + ctx.region + ":" + ctx.account + ":stream/" + description.stream_name;
    return description;
  }
  StatusOr<broker::StreamDescription> DescribeStreamSummary(const broker::RequestContext&,
                                                            const broker::StreamRef&) override {
    return Unused<broker::StreamDescription>();
  }
  StatusOr<broker::ListStreamsResult> ListStreams(const broker::RequestContext&,
                                                  const broker::ListStreamsRequest&) override {
    return Unused<broker::ListStreamsResult>();
  }
  StatusOr<broker::ListShardsResult> ListShards(const broker::RequestContext&,
                                                const broker::ListShardsRequest&) override {
    return Unused<broker::ListShardsResult>();
  }
  StatusOr<broker::PutRecordResult> AnswerPutRecord(const broker::PutRecordRequest& req) {
    last_put = req;
    if (error) {
      return *error;
    }
    return broker::PutRecordResult{.shard_id = "shardId-000000000000", .sequence_number = "42"};
  }
  StatusOr<broker::PutRecordsResult> AnswerPutRecords(const broker::PutRecordsRequest& req) {
    broker::PutRecordsResult result;
    last_put_records_bytes = 0;
    for (const broker::PutRecordsEntry& entry : *req.records) {
      last_put_records_bytes += entry.data->size();
      result.records.push_back({.shard_id = "shardId-000000000000",
                                .sequence_number = std::to_string(result.records.size()),
                                .error_code = std::nullopt,
                                .error_message = std::nullopt});
    }
    return result;
  }
  StatusOr<std::string> GetShardIterator(const broker::RequestContext&,
                                         const broker::GetShardIteratorRequest& req) override {
    last_iterator_request = req;
    if (error) {
      return *error;
    }
    return std::string("iterator");
  }
  StatusOr<broker::GetRecordsResult> GetRecords(const broker::RequestContext&,
                                                const broker::GetRecordsRequest& req) override {
    if (error) {
      return *error;
    }
    broker::GetRecordsResult result;
    broker::Record record;
    record.sequence_number = "1";
    record.arrival_time_ms = 1000;
    record.data = "payload of " + req.shard_iterator.value_or("");
    record.partition_key = "k";
    result.records.push_back(std::move(record));
    result.next_shard_iterator = "next";
    return result;
  }
  Status IncreaseStreamRetentionPeriod(const broker::RequestContext&,
                                       const broker::RetentionRequest&) override {
    return Answer();
  }
  Status DecreaseStreamRetentionPeriod(const broker::RequestContext&,
                                       const broker::RetentionRequest&) override {
    return Answer();
  }
  Status AddTagsToStream(const broker::RequestContext&, const broker::AddTagsRequest&) override {
    return Answer();
  }
  Status RemoveTagsFromStream(const broker::RequestContext&,
                              const broker::RemoveTagsRequest&) override {
    return Answer();
  }
  StatusOr<broker::ListTagsResult> ListTagsForStream(const broker::RequestContext&,
                                                     const broker::ListTagsRequest&) override {
    return Unused<broker::ListTagsResult>();
  }
  StatusOr<broker::EnhancedMonitoringResult> EnableEnhancedMonitoring(
      const broker::RequestContext&, const broker::EnhancedMonitoringRequest&) override {
    return Unused<broker::EnhancedMonitoringResult>();
  }
  StatusOr<broker::EnhancedMonitoringResult> DisableEnhancedMonitoring(
      const broker::RequestContext&, const broker::EnhancedMonitoringRequest&) override {
    return Unused<broker::EnhancedMonitoringResult>();
  }
  Status StartStreamEncryption(const broker::RequestContext&,
                               const broker::EncryptionRequest&) override {
    return Answer();
  }
  Status StopStreamEncryption(const broker::RequestContext&,
                              const broker::EncryptionRequest&) override {
    return Answer();
  }
  Status UpdateStreamMode(const broker::RequestContext&,
                          const broker::UpdateStreamModeRequest&) override {
    return Answer();
  }
  Status UpdateMaxRecordSize(const broker::RequestContext&,
                             const broker::UpdateMaxRecordSizeRequest&) override {
    return Answer();
  }
  Status AdmitCall(const broker::RequestContext&, std::string_view, std::string_view) override {
    return Status();
  }
  StatusOr<broker::DescribeLimitsResult> DescribeLimits(const broker::RequestContext&) override {
    return Unused<broker::DescribeLimitsResult>();
  }
  StatusOr<broker::WarmThroughputResult> UpdateStreamWarmThroughput(
      const broker::RequestContext&, const broker::UpdateWarmThroughputRequest&) override {
    return Unused<broker::WarmThroughputResult>();
  }
  StatusOr<broker::AccountSettings> DescribeAccountSettings(
      const broker::RequestContext&) override {
    return Unused<broker::AccountSettings>();
  }
  StatusOr<broker::AccountSettings> UpdateAccountSettings(
      const broker::RequestContext&, const broker::UpdateAccountSettingsRequest&) override {
    return Unused<broker::AccountSettings>();
  }
  Status PutResourcePolicy(const broker::RequestContext&,
                           const broker::ResourcePolicyRequest&) override {
    return Answer();
  }
  StatusOr<std::string> GetResourcePolicy(const broker::RequestContext&,
                                          const broker::ResourcePolicyRequest&) override {
    return Unused<std::string>();
  }
  Status DeleteResourcePolicy(const broker::RequestContext&,
                              const broker::ResourcePolicyRequest&) override {
    return Answer();
  }
  StatusOr<broker::ClusterDescription> DescribeCluster(const broker::RequestContext&) override {
    return Unused<broker::ClusterDescription>();
  }
  Status SplitShard(const broker::RequestContext&, const broker::SplitShardRequest& req) override {
    last_split = req;
    return Answer();
  }
  Status MergeShards(const broker::RequestContext&,
                     const broker::MergeShardsRequest& req) override {
    last_merge = req;
    return Answer();
  }
  StatusOr<broker::UpdateShardCountResult> UpdateShardCount(
      const broker::RequestContext& ctx, const broker::UpdateShardCountRequest& req) override {
    last_scale = req;
    if (error) {
      return *error;
    }
    const std::string name = req.stream.name.value_or("");
    return broker::UpdateShardCountResult{
        name, "arn:aws:kinesis:" + ctx.region + ":" + ctx.account + ":stream/" + name, 2,
        static_cast<int32_t>(req.target_shard_count.value_or(0))};
  }
  StatusOr<broker::ConsumerDescription> RegisterStreamConsumer(
      const broker::RequestContext&, const broker::RegisterConsumerRequest&) override {
    return Unused<broker::ConsumerDescription>();
  }
  Status DeregisterStreamConsumer(const broker::RequestContext&,
                                  const broker::ConsumerRef&) override {
    return Answer();
  }
  StatusOr<broker::ConsumerDescription> DescribeStreamConsumer(
      const broker::RequestContext&, const broker::ConsumerRef&) override {
    return Unused<broker::ConsumerDescription>();
  }
  StatusOr<broker::ListConsumersResult> ListStreamConsumers(
      const broker::RequestContext&, const broker::ListConsumersRequest&) override {
    return Unused<broker::ListConsumersResult>();
  }
  StatusOr<broker::Subscription> Subscribe(const broker::RequestContext&,
                                           const broker::SubscribeRequest&) override {
    return Unused<broker::Subscription>();
  }
  StatusOr<broker::SubscriptionEvent> NextEvent(const broker::RequestContext&,
                                                broker::Subscription&) override {
    return Unused<broker::SubscriptionEvent>();
  }
  Status CreateConsumerGroup(const broker::RequestContext&,
                             const broker::CreateGroupRequest&) override {
    return Unused<broker::GroupDescription>().status();
  }
  Status DeleteConsumerGroup(const broker::RequestContext&, const broker::GroupRef&) override {
    return Unused<broker::GroupDescription>().status();
  }
  StatusOr<broker::GroupDescription> DescribeConsumerGroup(const broker::RequestContext&,
                                                           const broker::GroupRef&) override {
    return Unused<broker::GroupDescription>();
  }
  StatusOr<broker::ShardLease> LeaseShard(const broker::RequestContext&,
                                          const broker::LeaseShardRequest&) override {
    return Unused<broker::ShardLease>();
  }
  Status ReleaseShardLease(const broker::RequestContext&,
                           const broker::ReleaseLeaseRequest&) override {
    return Unused<broker::ShardLease>().status();
  }
  Status Checkpoint(const broker::RequestContext&, const broker::CheckpointRequest&) override {
    return Unused<broker::ShardLease>().status();
  }
  std::vector<broker::GroupLag> ConsumerGroupLags() override { return {}; }
  std::vector<broker::ReaderLag> ReaderLags() override { return {}; }
  std::vector<broker::StreamDisk> StreamDiskUsage() override { return {}; }
  void TrimExpiredRecords() override {}
  void LogThrottling() override {}
  Status ApplyCatalogChange(const storage::CatalogChange&) override { return Status(); }
  std::optional<broker::ShardRef> RouteRecord(const broker::RequestContext&,
                                              const broker::StreamRef&,
                                              const std::optional<std::string>&,
                                              const std::optional<std::string>&) const override {
    return std::nullopt;
  }
  std::optional<broker::ShardRef> RouteShardId(const broker::RequestContext&,
                                               const broker::StreamRef&,
                                               const std::optional<std::string>&) const override {
    return std::nullopt;
  }
  std::optional<broker::ShardRef> RouteIterator(const std::optional<std::string>&) const override {
    return std::nullopt;
  }
  std::optional<std::string> ContinuationOf(const std::string&) const override {
    return std::nullopt;
  }
  bool NotifyWhenReadable(const broker::Subscription&, std::function<void()>) override {
    return false;
  }
  // The writes answer from another thread, as the commit pipeline does.
  void PutRecordAsync(const broker::RequestContext&, const broker::PutRecordRequest& req,
                      std::function<void(StatusOr<broker::PutRecordResult>)> done) override {
    std::thread([result = AnswerPutRecord(req), done = std::move(done)]() mutable {
      done(std::move(result));
    }).detach();
  }
  void PutRecordsAsync(const broker::RequestContext&, const broker::PutRecordsRequest& req,
                       std::function<void(StatusOr<broker::PutRecordsResult>)> done) override {
    std::thread([result = AnswerPutRecords(req), done = std::move(done)]() mutable {
      done(std::move(result));
    }).detach();
  }

 private:
  Status Answer() const { return error.value_or(Status()); }
  template <typename T>
  static StatusOr<T> Unused() {
    return Status(ErrorCode::kInternalFailure, "not used by these tests");
  }
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(broker_, "127.0.0.1", 0);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    stub_ = v1::Riffle::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials(), args));
  }

  static std::string ErrorTrailer(const grpc::ClientContext& context) {
    const auto& trailers = context.GetServerTrailingMetadata();
    auto it = trailers.find("riffle-error-code");
    return it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
  }

  FakeBroker broker_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::Riffle::Stub> stub_;
};

TEST_F(GrpcServerTest, NameClashOnCreateStreamIsAlreadyExistsWithKinesisCode) {
  broker_.error =
      Status(ErrorCode::kResourceInUse, "Stream s under account 000000000000 already exists.");
  grpc::ClientContext context;
  v1::CreateStreamRequest request;
  request.set_stream_name("s");
  request.set_shard_count(2);
  v1::CreateStreamResponse response;
  grpc::Status status = stub_->CreateStream(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(status.error_message(), "Stream s under account 000000000000 already exists.");
  EXPECT_EQ(ErrorTrailer(context), "ResourceInUseException");
  EXPECT_THAT(broker_.last_create.shard_count, Optional(2));
}

TEST_F(GrpcServerTest, ResourceInUseElsewhereIsFailedPrecondition) {
  broker_.error = Status(ErrorCode::kResourceInUse, "not ACTIVE");
  grpc::ClientContext context;
  v1::DeleteStreamRequest request;
  request.mutable_stream()->set_name("s");
  v1::DeleteStreamResponse response;
  grpc::Status status = stub_->DeleteStream(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorTrailer(context), "ResourceInUseException");
}

TEST_F(GrpcServerTest, SuccessfulCallHasNoErrorTrailer) {
  grpc::ClientContext context;
  v1::PutRecordRequest request;
  request.mutable_stream()->set_name("s");
  request.set_data("hello");
  request.set_partition_key("k");
  v1::PutRecordResponse response;
  ASSERT_TRUE(stub_->PutRecord(&context, request, &response).ok());
  EXPECT_EQ(response.shard_id(), "shardId-000000000000");
  EXPECT_EQ(response.sequence_number(), "42");
  EXPECT_EQ(ErrorTrailer(context), "");
  EXPECT_THAT(broker_.last_put.stream.name, Optional(std::string("s")));
  EXPECT_EQ(broker_.last_put.stream.arn, std::nullopt);
  EXPECT_THAT(broker_.last_put.data, Optional(std::string("hello")));
  EXPECT_EQ(broker_.last_put.explicit_hash_key, std::nullopt);
}

TEST_F(GrpcServerTest, IteratorTypeReachesTheBrokerAsKinesisString) {
  grpc::ClientContext context;
  v1::GetShardIteratorRequest request;
  request.mutable_stream()->set_name("s");
  request.set_shard_id("shardId-000000000000");
  request.set_type(v1::AFTER_SEQUENCE_NUMBER);
  request.set_starting_sequence_number("17");
  v1::GetShardIteratorResponse response;
  ASSERT_TRUE(stub_->GetShardIterator(&context, request, &response).ok());
  EXPECT_EQ(response.shard_iterator(), "iterator");
  EXPECT_THAT(broker_.last_iterator_request.shard_iterator_type,
              Optional(std::string("AFTER_SEQUENCE_NUMBER")));
  EXPECT_THAT(broker_.last_iterator_request.starting_sequence_number, Optional(std::string("17")));
  EXPECT_EQ(broker_.last_iterator_request.timestamp_ms, std::nullopt);
}

TEST_F(GrpcServerTest, ExpiredIteratorIsOutOfRange) {
  broker_.error = Status(ErrorCode::kExpiredIterator, "Iterator expired.");
  grpc::ClientContext context;
  v1::GetRecordsRequest request;
  request.set_shard_iterator("old");
  v1::GetRecordsResponse response;
  grpc::Status status = stub_->GetRecords(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(ErrorTrailer(context), "ExpiredIteratorException");
}

TEST_F(GrpcServerTest, GetRecordsReturnsRecordsAndNextIterator) {
  grpc::ClientContext context;
  v1::GetRecordsRequest request;
  request.set_shard_iterator("it");
  v1::GetRecordsResponse response;
  ASSERT_TRUE(stub_->GetRecords(&context, request, &response).ok());
  ASSERT_EQ(response.records_size(), 1);
  EXPECT_EQ(response.records(0).data(), "payload of it");
  EXPECT_EQ(response.next_shard_iterator(), "next");
}

TEST_F(GrpcServerTest, DescribeStreamUsesTheServerRequestContext) {
  grpc::ClientContext context;
  v1::DescribeStreamRequest request;
  request.mutable_stream()->set_name("s");
  v1::DescribeStreamResponse response;
  ASSERT_TRUE(stub_->DescribeStream(&context, request, &response).ok());
  EXPECT_EQ(response.description().stream_arn(), "arn:aws:kinesis:us-east-1:000000000000:stream/s");
}

TEST_F(GrpcServerTest, AcceptsAPutRecordsCallOfTenMebibytes) {
  grpc::ClientContext context;
  v1::PutRecordsRequest request;
  request.mutable_stream()->set_name("s");
  for (int i = 0; i < 10; ++i) {
    v1::PutRecordsEntry& entry = *request.add_records();
    entry.set_data(std::string(1024 * 1024 - 1, 'x'));
    entry.set_partition_key("k");
  }
  v1::PutRecordsResponse response;
  grpc::Status status = stub_->PutRecords(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.records_size(), 10);
  EXPECT_EQ(broker_.last_put_records_bytes, 10u * (1024 * 1024 - 1));
}

TEST_F(GrpcServerTest, SecondServerOnTheSamePortFailsToStart) {
  StatusOr<std::unique_ptr<GrpcServer>> second =
      GrpcServer::Start(broker_, "127.0.0.1", server_->port());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kServiceUnavailable);
}

TEST_F(GrpcServerTest, ShutdownIsIdempotentAndRefusesLaterCalls) {
  server_->Shutdown();
  server_->Shutdown();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::DeleteStreamRequest request;
  v1::DeleteStreamResponse response;
  EXPECT_EQ(stub_->DeleteStream(&context, request, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcServerTest, SplitShardReachesTheBrokerAndItsErrorsKeepTheirCode) {
  v1::SplitShardRequest request;
  request.mutable_stream()->set_name("s");
  request.set_shard_to_split("shardId-000000000000");
  request.set_new_starting_hash_key("100");
  v1::SplitShardResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->SplitShard(&context, request, &response).ok());
    EXPECT_EQ(ErrorTrailer(context), "");
  }
  EXPECT_THAT(broker_.last_split.shard_to_split, Optional(std::string("shardId-000000000000")));
  EXPECT_THAT(broker_.last_split.new_starting_hash_key, Optional(std::string("100")));

  broker_.error = Status(ErrorCode::kInvalidArgument, "NewStartingHashKey 1 used in SplitShard()");
  grpc::ClientContext context;
  grpc::Status status = stub_->SplitShard(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "NewStartingHashKey 1 used in SplitShard()");
  EXPECT_EQ(ErrorTrailer(context), "InvalidArgumentException");
}

TEST_F(GrpcServerTest, MergeOfAClosedShardIsFailedPrecondition) {
  broker_.error = Status(ErrorCode::kResourceInUse, "has already been merged or split");
  grpc::ClientContext context;
  v1::MergeShardsRequest request;
  request.mutable_stream()->set_name("s");
  request.set_shard_to_merge("shardId-000000000000");
  request.set_adjacent_shard_to_merge("shardId-000000000001");
  v1::MergeShardsResponse response;
  grpc::Status status = stub_->MergeShards(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorTrailer(context), "ResourceInUseException");
  EXPECT_THAT(broker_.last_merge.shard_to_merge, Optional(std::string("shardId-000000000000")));
  EXPECT_THAT(broker_.last_merge.adjacent_shard_to_merge,
              Optional(std::string("shardId-000000000001")));
}

TEST_F(GrpcServerTest, UpdateShardCountReturnsTheBrokerResult) {
  grpc::ClientContext context;
  v1::UpdateShardCountRequest request;
  request.mutable_stream()->set_name("s");
  request.set_target_shard_count(4);
  request.set_scaling_type(v1::UNIFORM_SCALING);
  v1::UpdateShardCountResponse response;
  ASSERT_TRUE(stub_->UpdateShardCount(&context, request, &response).ok());
  EXPECT_EQ(response.stream_name(), "s");
  EXPECT_EQ(response.stream_arn(), "arn:aws:kinesis:us-east-1:000000000000:stream/s");
  EXPECT_EQ(response.current_shard_count(), 2);
  EXPECT_EQ(response.target_shard_count(), 4);
  EXPECT_THAT(broker_.last_scale.scaling_type, Optional(std::string("UNIFORM_SCALING")));
}

TEST_F(GrpcServerTest, UpdateShardCountOverTheLimitIsResourceExhausted) {
  broker_.error = Status(ErrorCode::kLimitExceeded, "must be between half and double");
  grpc::ClientContext context;
  v1::UpdateShardCountRequest request;
  request.mutable_stream()->set_name("s");
  request.set_target_shard_count(100);
  request.set_scaling_type(v1::UNIFORM_SCALING);
  v1::UpdateShardCountResponse response;
  grpc::Status status = stub_->UpdateShardCount(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ErrorTrailer(context), "LimitExceededException");
  EXPECT_EQ(response.target_shard_count(), 0);
}

}  // namespace
}  // namespace riffle::grpc_api
