#include "riffle/client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "riffle/v1/riffle.grpc.pb.h"

namespace riffle::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ShardId(int ordinal) {
  char id[32];
  std::snprintf(id, sizeof(id), "shardId-%012d", ordinal);
  return id;
}

// Serves five shards two per page, three streams one per page, and errors on request.
class FakeRiffle final : public v1::Riffle::Service {
 public:
  std::mutex mu;
  std::vector<v1::DescribeStreamRequest> describe_requests;
  std::vector<v1::ListShardsRequest> list_shards_requests;
  v1::PutRecordRequest last_put;

  grpc::Status DescribeStream(grpc::ServerContext* context,
                              const v1::DescribeStreamRequest* request,
                              v1::DescribeStreamResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    describe_requests.push_back(*request);
    if (request->stream().name() == "missing") {
      context->AddTrailingMetadata("riffle-error-code", "ResourceNotFoundException");
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "Stream missing under account 000000000000 not found.");
    }
    if (request->stream().name() == "future") {
      context->AddTrailingMetadata("riffle-error-code", "BrandNewException");
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "something new");
    }
    v1::StreamDescription& description = *response->mutable_description();
    description.set_stream_name(request->stream().name());
    description.set_stream_status("ACTIVE");
    description.set_mode(v1::ON_DEMAND);
    description.set_open_shard_count(5);
    int first = 0;
    if (!request->exclusive_start_shard_id().empty()) {
      first = std::stoi(request->exclusive_start_shard_id().substr(8)) + 1;
    }
    for (int i = first; i < 5 && i < first + 2; ++i) {
      description.add_shards()->set_shard_id(ShardId(i));
    }
    description.set_has_more_shards(first + 2 < 5);
    return grpc::Status::OK;
  }

  grpc::Status ListStreams(grpc::ServerContext*, const v1::ListStreamsRequest* request,
                           v1::ListStreamsResponse* response) override {
    const std::vector<std::string> names = {"a", "b", "c"};
    size_t index = request->next_token().empty() ? 0 : std::stoul(request->next_token());
    response->add_stream_names(names[index]);
    response->add_summaries()->set_stream_name(names[index]);
    response->set_has_more_streams(index + 1 < names.size());
    if (index + 1 < names.size()) {
      response->set_next_token(std::to_string(index + 1));
    }
    return grpc::Status::OK;
  }

  grpc::Status ListShards(grpc::ServerContext*, const v1::ListShardsRequest* request,
                          v1::ListShardsResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    list_shards_requests.push_back(*request);
    if (request->next_token().empty()) {
      response->add_shards()->set_shard_id(ShardId(0));
      response->set_next_token("page-2");
    } else {
      response->add_shards()->set_shard_id(ShardId(1));
    }
    return grpc::Status::OK;
  }

  grpc::Status PutRecord(grpc::ServerContext*, const v1::PutRecordRequest* request,
                         v1::PutRecordResponse* response) override {
    std::lock_guard<std::mutex> lock(mu);
    last_put = *request;
    response->set_shard_id(ShardId(0));
    response->set_sequence_number("7");
    return grpc::Status::OK;
  }

  grpc::Status GetRecords(grpc::ServerContext*, const v1::GetRecordsRequest*,
                          v1::GetRecordsResponse* response) override {
    for (int i = 0; i < 10; ++i) {
      v1::Record& record = *response->add_records();
      record.set_sequence_number(std::to_string(i));
      record.set_data(std::string(1024 * 1024, static_cast<char>('a' + i)));
    }
    response->set_next_shard_iterator("next");
    return grpc::Status::OK;
  }
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    client_ =
        std::make_unique<Client>(ClientOptions{.endpoint = "127.0.0.1:" + std::to_string(port)});
  }
  void TearDown() override { server_->Shutdown(); }

  FakeRiffle service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, DescribeStreamFollowsPagesUntilAllShardsAreIn) {
  StatusOr<StreamDescription> description = client_->DescribeStream("orders");
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  std::vector<std::string> ids;
  for (const Shard& shard : description->shards) {
    ids.push_back(shard.shard_id);
  }
  EXPECT_THAT(ids, ElementsAre(ShardId(0), ShardId(1), ShardId(2), ShardId(3), ShardId(4)));
  EXPECT_EQ(description->mode, StreamMode::kOnDemand);
  std::lock_guard<std::mutex> lock(service_.mu);
  ASSERT_EQ(service_.describe_requests.size(), 3u);
  EXPECT_EQ(service_.describe_requests[1].exclusive_start_shard_id(), ShardId(1));
  EXPECT_EQ(service_.describe_requests[2].exclusive_start_shard_id(), ShardId(3));
}

TEST_F(ClientTest, ListStreamsFollowsNextTokens) {
  StatusOr<std::vector<StreamSummary>> streams = client_->ListStreams();
  ASSERT_TRUE(streams.ok()) << streams.status().ToString();
  std::vector<std::string> names;
  for (const StreamSummary& stream : *streams) {
    names.push_back(stream.stream_name);
  }
  EXPECT_THAT(names, ElementsAre("a", "b", "c"));
}

TEST_F(ClientTest, ListShardsSendsOnlyTheTokenAfterTheFirstPage) {
  StatusOr<std::vector<Shard>> shards = client_->ListShards("orders");
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 2u);
  std::lock_guard<std::mutex> lock(service_.mu);
  ASSERT_EQ(service_.list_shards_requests.size(), 2u);
  EXPECT_EQ(service_.list_shards_requests[0].stream().name(), "orders");
  EXPECT_FALSE(service_.list_shards_requests[1].has_stream());
  EXPECT_EQ(service_.list_shards_requests[1].next_token(), "page-2");
}

TEST_F(ClientTest, ErrorTrailerBecomesTheErrorCode) {
  StatusOr<StreamDescription> description = client_->DescribeStream("missing");
  ASSERT_FALSE(description.ok());
  EXPECT_EQ(description.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(description.status().message(), "Stream missing under account 000000000000 not found.");
}

TEST_F(ClientTest, UnknownErrorCodeKeepsItsNameInTheMessage) {
  StatusOr<StreamDescription> description = client_->DescribeStream("future");
  ASSERT_FALSE(description.ok());
  EXPECT_EQ(description.status().code(), ErrorCode::kInternalFailure);
  EXPECT_THAT(description.status().message(), HasSubstr("BrandNewException"));
}

TEST_F(ClientTest, ArnGoesInTheArnField) {
  const std::string arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
  StatusOr<PutRecordResult> put = client_->PutRecord(arn, {.data = "d", .partition_key = "k"});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->sequence_number, "7");
  std::lock_guard<std::mutex> lock(service_.mu);
  EXPECT_EQ(service_.last_put.stream().arn(), arn);
  EXPECT_EQ(service_.last_put.stream().name(), "");
}

TEST_F(ClientTest, ReceivesAGetRecordsResponseOfTenMebibytes) {
  StatusOr<GetRecordsResult> result = client_->GetRecords("it");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->records.size(), 10u);
  EXPECT_EQ(result->records[9].data, std::string(1024 * 1024, 'j'));
  EXPECT_EQ(result->next_shard_iterator, "next");
}

TEST(ClientConnectionTest, NoServerIsServiceUnavailable) {
  // A port that was free a moment ago: nothing listens on it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  Client client({.endpoint = "127.0.0.1:" + std::to_string(ntohs(address.sin_port)),
                 .call_timeout = std::chrono::seconds(5)});
  Status status = client.DeleteStream("s");
  EXPECT_EQ(status.code(), ErrorCode::kServiceUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("127.0.0.1"));
}

}  // namespace
}  // namespace riffle::client
