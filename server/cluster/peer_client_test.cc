// PeerClient against a real broker behind a real gRPC server: every operation answers through the
// peer exactly as the broker answers when called directly, errors included.
#include "server/cluster/peer_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/pfr.hpp>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "server/api/grpc/grpc_server.h"
#include "server/auth/credentials.h"
#include "server/broker/broker.h"
#include "storage/store.h"

// Requests here name only the members they set: the others stay absent, as a front end leaves
// them.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace riffle::cluster {
namespace {

using namespace std::chrono_literals;

// Debian's gRPC 1.51 completes callback-API calls on one shared completion queue, deleted when
// the last channel or server that used it goes; a completion still in flight at that moment can
// be freed twice (ASan caught it, now and then, at the end of the silent-peer case). A channel
// that made one callback call and lives until the last test is over keeps that queue alive.
class KeepCallbackQueueAcrossTests : public ::testing::Environment {
 public:
  void SetUp() override {
    keeper_ = std::make_unique<PeerClient>(NewPeerChannel("127.0.0.1:1"),
                                           PeerClientOptions{.name = "nobody"});
    std::promise<void> answered;
    keeper_->PutRecordsAsync({}, {.stream = {"s"}},
                            [&answered](const auto&) { answered.set_value(); });
    answered.get_future().wait();
  }
  // After the last test, when nothing is in flight any more.
  void TearDown() override { keeper_.reset(); }

 private:
  std::unique_ptr<PeerClient> keeper_;
};
[[maybe_unused]] ::testing::Environment* const keep_callback_queue_across_tests =
    ::testing::AddGlobalTestEnvironment(new KeepCallbackQueueAcrossTests);

// Every member of a broker result, nested, as text, absent ones as null: two results are equal
// when their dumps are, members added later included, and a mismatch shows where they differ.
template <typename T>
void DumpTo(std::string& out, const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    out += '"' + value + '"';
  } else if constexpr (std::is_arithmetic_v<T>) {
    out += std::to_string(value);
  } else if constexpr (requires { value.has_value(); }) {  // std::optional
    value ? DumpTo(out, *value) : void(out += "null");
  } else if constexpr (requires { value.second; }) {  // std::pair
    DumpTo(out, value.first);
    out += ": ";
    DumpTo(out, value.second);
  } else if constexpr (requires { value.begin(); }) {
    out += '[';
    for (const auto& item : value) {
      DumpTo(out, item);
      out += ", ";
    }
    out += ']';
  } else {
    out += '{';
    boost::pfr::for_each_field(value, [&out](const auto& field) {
      DumpTo(out, field);
      out += ", ";
    });
    out += '}';
  }
}

template <typename T>
std::string Dump(const T& value) {
  std::string out;
  DumpTo(out, value);
  return out;
}

std::string Dump(const Status& status) {
  return status.ToString();
}

template <typename T>
std::string Dump(const StatusOr<T>& result) {
  return result.ok() ? Dump(*result) : result.status().ToString();
}

// The peer answers `Method(ctx_, args...)` as the broker does when called directly.
#define EXPECT_SAME(Method, ...) \
  EXPECT_EQ(Dump(peer_->Method(ctx_, __VA_ARGS__)), Dump(broker_->Method(ctx_, __VA_ARGS__)))

template <typename Result, typename Start>
StatusOr<Result> Wait(Start start) {
  std::promise<StatusOr<Result>> promise;
  start([&promise](StatusOr<Result> result) { promise.set_value(std::move(result)); });
  return promise.get_future().get();
}

class PeerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("riffle-peer-client-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto store = storage::Store::Open({.data_dir = dir_, .fsync = storage::FsyncMode::kNever});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    // No quotas: the manual clock never refills them, and the tests compare answers, not rates.
    auto broker =
        broker::Broker::Open(*store_, clock_, broker::BrokerOptions{.shard_quotas = false});
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    // The server's own account and region differ from the caller's, so ARNs show whose apply.
    auto server = grpc_api::GrpcServer::Start(*broker_, "127.0.0.1", 0, {}, &clock_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    peer_ =
        std::make_unique<PeerClient>(NewPeerChannel("127.0.0.1:" + std::to_string(server_->port())),
                                     PeerClientOptions{.name = "node test"});
  }

  void TearDown() override {
    peer_.reset();
    server_.reset();
    broker_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void CreateProvisioned(const std::string& name, int64_t shards) {
    ASSERT_TRUE(peer_->CreateStream(ctx_, {.stream_name = name, .shard_count = shards}).ok());
  }

  std::string Arn(const std::string& name) const {
    return "arn:aws:kinesis:" + ctx_.region + ":" + ctx_.account + ":stream/" + name;
  }

  StatusOr<broker::PutRecordResult> PeerPut(const broker::PutRecordRequest& req) {
    return Wait<broker::PutRecordResult>(
        [&](auto done) { peer_->PutRecordAsync(ctx_, req, std::move(done)); });
  }

  StatusOr<broker::PutRecordsResult> PeerPutRecords(const broker::PutRecordsRequest& req) {
    return Wait<broker::PutRecordsResult>(
        [&](auto done) { peer_->PutRecordsAsync(ctx_, req, std::move(done)); });
  }

  std::string TrimHorizon(const std::string& stream, const std::string& shard) {
    StatusOr<std::string> iterator = peer_->GetShardIterator(
        ctx_,
        {.stream = {.name = stream}, .shard_id = shard, .shard_iterator_type = "TRIM_HORIZON"});
    EXPECT_TRUE(iterator.ok()) << iterator.status().ToString();
    return iterator.ok() ? *iterator : "";
  }

  const broker::RequestContext ctx_{.region = "eu-west-1", .account = "123456789012"};
  std::filesystem::path dir_;
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<grpc_api::GrpcServer> server_;
  std::unique_ptr<PeerClient> peer_;
};

TEST_F(PeerClientTest, CreateStreamWithoutShardCountIsOnDemand) {
  ASSERT_TRUE(peer_->CreateStream(ctx_, {.stream_name = "events"}).ok());
  EXPECT_EQ(broker_->DescribeStreamSummary(ctx_, {"events"})->stream_mode, "ON_DEMAND");
  EXPECT_SAME(DescribeStreamSummary, broker::StreamRef{"events"});
}

TEST_F(PeerClientTest, DescribeAnswersAsTheBrokerDoesWithTheCallersArns) {
  broker::CreateStreamRequest create{.stream_name = "orders",
                                     .shard_count = 3,
                                     .stream_mode = "PROVISIONED",
                                     .tags = {{"team", "payments"}},
                                     .max_record_size_kib = 2048};
  ASSERT_TRUE(peer_->CreateStream(ctx_, create).ok());
  broker::DescribeStreamRequest page{.stream = {.name = "orders"}, .limit = 2};
  StatusOr<broker::StreamDescription> direct = broker_->DescribeStream(ctx_, page);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ(direct->stream_arn, Arn("orders"));
  EXPECT_EQ(direct->max_record_size_kib, 2048);
  EXPECT_TRUE(direct->has_more_shards);
  EXPECT_EQ(Dump(peer_->DescribeStream(ctx_, page)), Dump(direct));

  page.exclusive_start_shard_id = "shardId-000000000001";
  EXPECT_SAME(DescribeStream, page);
  broker::StreamRef by_arn{.arn = Arn("orders")};
  EXPECT_SAME(DescribeStreamSummary, by_arn);

  // The server's own account would resolve this ARN; the caller's does not.
  broker::StreamRef servers_arn{.arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"};
  EXPECT_EQ(peer_->DescribeStreamSummary(ctx_, servers_arn).status().code(),
            ErrorCode::kResourceNotFound);
}

TEST_F(PeerClientTest, ListsPageAsTheBrokerDoes) {
  for (const char* name : {"a", "b", "c"}) {
    CreateProvisioned(name, 3);
  }
  broker::ListStreamsRequest streams{.limit = 2};
  StatusOr<broker::ListStreamsResult> first = peer_->ListStreams(ctx_, streams);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->next_token.has_value());
  EXPECT_EQ(Dump(first), Dump(broker_->ListStreams(ctx_, streams)));
  broker::ListStreamsRequest next{.next_token = first->next_token};
  EXPECT_SAME(ListStreams, next);

  broker::ListShardsRequest shards{.stream = {.name = "b"}, .max_results = 1};
  StatusOr<broker::ListShardsResult> shard_page = peer_->ListShards(ctx_, shards);
  ASSERT_TRUE(shard_page.ok()) << shard_page.status().ToString();
  EXPECT_EQ(Dump(shard_page), Dump(broker_->ListShards(ctx_, shards)));
  broker::ListShardsRequest after{
      .stream = {.name = "b"},
      .shard_filter =
          broker::ShardFilter{.type = "AFTER_SHARD_ID", .shard_id = "shardId-000000000000"}};
  EXPECT_EQ(broker_->ListShards(ctx_, after)->shards.size(), 2u);
  EXPECT_SAME(ListShards, after);
  // Members that only make the broker refuse: they must arrive to be refused.
  broker::ListShardsRequest clash{.next_token = shard_page->next_token,
                                  .stream_creation_timestamp_ms = 1};
  EXPECT_EQ(broker_->ListShards(ctx_, clash).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_SAME(ListShards, clash);
  broker::ListShardsRequest no_type{.stream = {.name = "b"}, .shard_filter = broker::ShardFilter{}};
  EXPECT_SAME(ListShards, no_type);
}

TEST_F(PeerClientTest, WritesAndReadsGoThroughThePeer) {
  CreateProvisioned("orders", 2);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id answered_on;
  StatusOr<broker::PutRecordResult> put = Wait<broker::PutRecordResult>([&](auto done) {
    peer_->PutRecordAsync(ctx_, {.stream = {.name = "orders"}, .data = "one", .partition_key = "k"},
                          [&, done](StatusOr<broker::PutRecordResult> result) {
                            answered_on = std::this_thread::get_id();
                            done(std::move(result));
                          });
  });
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_NE(answered_on, caller);
  EXPECT_EQ(put->encryption_type, "NONE");

  StatusOr<broker::PutRecordsResult> batch = PeerPutRecords(
      {.stream = {.arn = Arn("orders")},
       .records = std::vector<broker::PutRecordsEntry>{
           {.data = "two", .partition_key = "k"},
           {.data = std::string("\0three", 6), .partition_key = "k2", .explicit_hash_key = "0"}}});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->failed_record_count, 0);
  EXPECT_EQ(batch->records.at(1).shard_id, "shardId-000000000000");
  EXPECT_FALSE(batch->records.at(1).error_code.has_value());

  for (const char* shard : {"shardId-000000000000", "shardId-000000000001"}) {
    broker::GetRecordsRequest read{.shard_iterator = TrimHorizon("orders", shard),
                                   .stream_arn = Arn("orders")};
    EXPECT_SAME(GetRecords, read);
  }
  broker::GetRecordsRequest one{.shard_iterator = TrimHorizon("orders", "shardId-000000000000"),
                                .limit = 1};
  EXPECT_EQ(broker_->GetRecords(ctx_, one)->records.size(), 1u);
  EXPECT_SAME(GetRecords, one);

  // The stream ARN must reach the broker for it to see that it names another stream.
  CreateProvisioned("other", 1);
  broker::GetRecordsRequest mismatch{.shard_iterator = one.shard_iterator,
                                     .stream_arn = Arn("other")};
  EXPECT_EQ(broker_->GetRecords(ctx_, mismatch).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_SAME(GetRecords, mismatch);
}

TEST_F(PeerClientTest, AnswersLargerThanGrpcsDefaultLimitComeBack) {
  CreateProvisioned("big", 1);
  const std::string data(1024 * 1024 - 1, 'x');
  broker::PutRecordsRequest batch{.stream = {.name = "big"},
                                  .records = std::vector<broker::PutRecordsEntry>(6)};
  for (broker::PutRecordsEntry& entry : *batch.records) {
    entry = {.data = data, .partition_key = "k"};
  }
  StatusOr<broker::PutRecordsResult> put = PeerPutRecords(batch);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_EQ(put->failed_record_count, 0);
  StatusOr<broker::GetRecordsResult> read =
      peer_->GetRecords(ctx_, {.shard_iterator = TrimHorizon("big", "shardId-000000000000")});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->records.size(), 6u);
  for (const broker::Record& record : read->records) {
    EXPECT_TRUE(record.data == data);
  }
}

TEST_F(PeerClientTest, ErrorsKeepTheBrokersCodeAndMessage) {
  CreateProvisioned("orders", 1);
  broker::DescribeStreamRequest missing{.stream = {.name = "missing"}};
  EXPECT_EQ(peer_->DescribeStream(ctx_, missing).status().code(), ErrorCode::kResourceNotFound);
  EXPECT_SAME(DescribeStream, missing);

  broker::CreateStreamRequest taken{.stream_name = "orders", .shard_count = 1};
  EXPECT_EQ(peer_->CreateStream(ctx_, taken).code(), ErrorCode::kResourceInUse);
  EXPECT_SAME(CreateStream, taken);

  broker::CreateStreamRequest invalid{.stream_name = "no spaces", .shard_count = 0};
  EXPECT_EQ(broker_->CreateStream(ctx_, invalid).code(), ErrorCode::kValidation);
  EXPECT_SAME(CreateStream, invalid);

  broker::RetentionRequest shorter{.stream = {.name = "orders"}, .retention_period_hours = 48};
  EXPECT_EQ(broker_->DecreaseStreamRetentionPeriod(ctx_, shorter).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_SAME(DecreaseStreamRetentionPeriod, shorter);

  broker::PutRecordRequest bad_key{
      .stream = {.name = "orders"}, .data = "x", .partition_key = "k", .explicit_hash_key = "-1"};
  EXPECT_EQ(broker_->PutRecord(ctx_, bad_key).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(Dump(PeerPut(bad_key)), Dump(broker_->PutRecord(ctx_, bad_key)));

  broker::GetRecordsRequest forged{.shard_iterator = "not-an-iterator"};
  EXPECT_SAME(GetRecords, forged);
}

TEST_F(PeerClientTest, ValuesTheProtoCannotHoldAreStillRefused) {
  // An int64 past int32 and strings outside the proto's enums: the broker must refuse them, not
  // see a value it would accept.
  broker::CreateStreamRequest huge{.stream_name = "huge", .shard_count = (int64_t{1} << 32) + 1};
  Status created = peer_->CreateStream(ctx_, huge);
  EXPECT_EQ(created.code(), ErrorCode::kValidation) << created.ToString();
  broker::CreateStreamRequest mode{.stream_name = "mode", .stream_mode = "SOMETIMES"};
  EXPECT_EQ(peer_->CreateStream(ctx_, mode).code(), ErrorCode::kValidation);
  EXPECT_EQ(broker_->ListStreams(ctx_, {})->streams.size(), 0u);

  CreateProvisioned("orders", 1);
  broker::GetShardIteratorRequest iterator{.stream = {.name = "orders"},
                                           .shard_id = "shardId-000000000000",
                                           .shard_iterator_type = "NEWEST"};
  EXPECT_EQ(peer_->GetShardIterator(ctx_, iterator).status().code(), ErrorCode::kValidation);
  broker::UpdateShardCountRequest scale{
      .stream = {.name = "orders"}, .target_shard_count = 2, .scaling_type = "RANDOM"};
  EXPECT_EQ(peer_->UpdateShardCount(ctx_, scale).status().code(), ErrorCode::kValidation);
  broker::GetRecordsRequest limit{.shard_iterator = TrimHorizon("orders", "shardId-000000000000"),
                                  .limit = (int64_t{1} << 32) + 1};
  EXPECT_EQ(peer_->GetRecords(ctx_, limit).status().code(), ErrorCode::kValidation);
}

TEST_F(PeerClientTest, StreamSettingsChangeThroughThePeer) {
  CreateProvisioned("orders", 1);
  broker::StreamRef orders{.name = "orders"};
  ASSERT_TRUE(peer_->IncreaseStreamRetentionPeriod(ctx_, {orders, 48}).ok());
  ASSERT_TRUE(peer_->DecreaseStreamRetentionPeriod(ctx_, {orders, 36}).ok());
  EXPECT_EQ(broker_->DescribeStreamSummary(ctx_, orders)->retention_period_hours, 36);

  std::map<std::string, std::string> added{{"a", "1"}, {"b", "2"}, {"c", ""}};
  ASSERT_TRUE(peer_->AddTagsToStream(ctx_, {orders, added}).ok());
  ASSERT_TRUE(peer_->RemoveTagsFromStream(ctx_, {orders, std::vector<std::string>{"b"}}).ok());
  broker::ListTagsRequest tags{.stream = orders, .limit = 1};
  EXPECT_TRUE(broker_->ListTagsForStream(ctx_, tags)->has_more_tags);
  EXPECT_SAME(ListTagsForStream, tags);
  broker::ListTagsRequest rest{.stream = orders, .exclusive_start_tag_key = "a"};
  EXPECT_SAME(ListTagsForStream, rest);

  const std::vector<std::string> both{"IncomingBytes", "OutgoingBytes"};
  EXPECT_EQ(Dump(peer_->EnableEnhancedMonitoring(ctx_, {orders, both})),
            Dump(broker::EnhancedMonitoringResult{"orders", Arn("orders"), {}, both}));
  EXPECT_EQ(
      Dump(peer_->DisableEnhancedMonitoring(ctx_, {orders, {{"IncomingBytes"}}})),
      Dump(broker::EnhancedMonitoringResult{"orders", Arn("orders"), both, {"OutgoingBytes"}}));

  ASSERT_TRUE(peer_->StartStreamEncryption(ctx_, {orders, "KMS", "alias/riffle"}).ok());
  StatusOr<broker::StreamDescription> encrypted = broker_->DescribeStreamSummary(ctx_, orders);
  EXPECT_EQ(encrypted->encryption_type, "KMS");
  EXPECT_EQ(encrypted->key_id, "alias/riffle");
  StatusOr<broker::PutRecordResult> put =
      PeerPut({.stream = orders, .data = "secret", .partition_key = "k"});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->encryption_type, "KMS");
  broker::GetRecordsRequest read{.shard_iterator = TrimHorizon("orders", "shardId-000000000000")};
  EXPECT_EQ(broker_->GetRecords(ctx_, read)->records.at(0).encryption_type, "KMS");
  EXPECT_SAME(GetRecords, read);
  ASSERT_TRUE(peer_->StopStreamEncryption(ctx_, {orders, "KMS", "alias/riffle"}).ok());
  EXPECT_EQ(broker_->DescribeStreamSummary(ctx_, orders)->key_id, std::nullopt);

  ASSERT_TRUE(peer_->UpdateStreamMode(ctx_, {Arn("orders"), "ON_DEMAND"}).ok());
  ASSERT_TRUE(peer_->UpdateMaxRecordSize(ctx_, {Arn("orders"), 4096}).ok());
  StatusOr<broker::StreamDescription> after = broker_->DescribeStreamSummary(ctx_, orders);
  EXPECT_EQ(after->stream_mode, "ON_DEMAND");
  EXPECT_EQ(after->max_record_size_kib, 4096);
  broker::UpdateStreamModeRequest same{Arn("orders"), "ON_DEMAND"};
  EXPECT_SAME(UpdateStreamMode, same);

  EXPECT_EQ(Dump(peer_->DescribeLimits(ctx_)), Dump(broker_->DescribeLimits(ctx_)));
}

TEST_F(PeerClientTest, ReshardingThroughThePeer) {
  CreateProvisioned("orders", 2);
  broker::StreamRef orders{.name = "orders"};
  ASSERT_TRUE(PeerPut({.stream = orders, .data = "before", .partition_key = "k"}).ok());
  ASSERT_TRUE(peer_
                  ->SplitShard(ctx_, {orders, "shardId-000000000000",
                                      "85070591730234615865843651857942052864"})
                  .ok());
  ASSERT_TRUE(
      peer_->MergeShards(ctx_, {orders, "shardId-000000000002", "shardId-000000000003"}).ok());
  broker::ListShardsRequest all{.stream = orders};
  EXPECT_EQ(broker_->ListShards(ctx_, all)->shards.size(), 5u);
  EXPECT_SAME(ListShards, all);

  // A closed parent's reader learns of its children, through the peer as directly.
  for (const char* parent : {"shardId-000000000000", "shardId-000000000001"}) {
    broker::GetRecordsRequest read{.shard_iterator = TrimHorizon("orders", parent)};
    EXPECT_SAME(GetRecords, read);
  }

  EXPECT_EQ(Dump(peer_->UpdateShardCount(ctx_, {orders, 4, "UNIFORM_SCALING"})),
            Dump(broker::UpdateShardCountResult{"orders", Arn("orders"), 2, 4}));
  broker::SplitShardRequest closed{orders, "shardId-000000000000", "1"};
  EXPECT_SAME(SplitShard, closed);
}

TEST_F(PeerClientTest, ConsumersThroughThePeer) {
  CreateProvisioned("orders", 1);
  StatusOr<broker::ConsumerDescription> registered =
      peer_->RegisterStreamConsumer(ctx_, {Arn("orders"), "reader"});
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  EXPECT_EQ(registered->stream_arn, Arn("orders"));
  broker::ConsumerRef by_name{.stream_arn = Arn("orders"), .consumer_name = "reader"};
  EXPECT_EQ(Dump(peer_->DescribeStreamConsumer(ctx_, by_name)), Dump(registered));
  broker::ConsumerRef by_arn{.consumer_arn = registered->consumer_arn};
  EXPECT_SAME(DescribeStreamConsumer, by_arn);
  EXPECT_EQ(peer_->RegisterStreamConsumer(ctx_, {Arn("orders"), "reader"}).status().code(),
            ErrorCode::kResourceInUse);

  ASSERT_TRUE(peer_->RegisterStreamConsumer(ctx_, {Arn("orders"), "second"}).ok());
  broker::ListConsumersRequest page{.stream_arn = Arn("orders"), .max_results = 1};
  StatusOr<broker::ListConsumersResult> first = peer_->ListStreamConsumers(ctx_, page);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->next_token.has_value());
  EXPECT_EQ(Dump(first), Dump(broker_->ListStreamConsumers(ctx_, page)));
  broker::ListConsumersRequest next{.stream_arn = Arn("orders"), .next_token = first->next_token};
  EXPECT_SAME(ListStreamConsumers, next);

  ASSERT_TRUE(peer_->DeregisterStreamConsumer(ctx_, by_name).ok());
  EXPECT_SAME(DescribeStreamConsumer, by_name);
  broker::DeleteStreamRequest with_consumers{.stream = {.name = "orders"}};
  EXPECT_EQ(broker_->DeleteStream(ctx_, with_consumers).code(), ErrorCode::kResourceInUse);
  EXPECT_SAME(DeleteStream, with_consumers);
  with_consumers.enforce_consumer_deletion = true;
  ASSERT_TRUE(peer_->DeleteStream(ctx_, with_consumers).ok());
}

TEST_F(PeerClientTest, AsyncCallOutlivesTheClient) {
  CreateProvisioned("orders", 1);
  std::promise<StatusOr<broker::PutRecordResult>> answer;
  peer_->PutRecordAsync(
      ctx_, {.stream = {.name = "orders"}, .data = "x", .partition_key = "k"},
      [&answer](StatusOr<broker::PutRecordResult> result) { answer.set_value(std::move(result)); });
  peer_.reset();
  StatusOr<broker::PutRecordResult> result = answer.get_future().get();
  EXPECT_TRUE(result.ok()) << result.status().ToString();
}

TEST_F(PeerClientTest, UnreachablePeerIsServiceUnavailableAtOnce) {
  // Nothing listens on port 1: the connection is refused.
  PeerClient down(NewPeerChannel("127.0.0.1:1"), {.name = "node down"});
  const auto start = std::chrono::steady_clock::now();
  StatusOr<broker::StreamDescription> read = down.DescribeStream(ctx_, {.stream = {"orders"}});
  EXPECT_EQ(read.status().code(), ErrorCode::kServiceUnavailable);
  EXPECT_NE(read.status().message().find("node down"), std::string::npos)
      << read.status().ToString();
  StatusOr<broker::PutRecordResult> write = Wait<broker::PutRecordResult>([&](auto done) {
    down.PutRecordAsync(ctx_, {.stream = {"orders"}, .data = "x", .partition_key = "k"},
                        std::move(done));
  });
  EXPECT_EQ(write.status().code(), ErrorCode::kServiceUnavailable) << write.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(PeerClientTest, SilentPeerTimesOutAndAWriteOutcomeIsUnknown) {
  // A socket that accepts connections (in the kernel's backlog) but never speaks HTTP/2.
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(silent, 16), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length), 0);
  PeerClient stuck(NewPeerChannel("127.0.0.1:" + std::to_string(ntohs(address.sin_port))),
                   {.name = "node stuck", .deadline = 300ms});

  Status read = stuck.ListStreams(ctx_, {}).status();
  EXPECT_EQ(read.code(), ErrorCode::kServiceUnavailable) << read.ToString();
  EXPECT_NE(read.message().find("node stuck"), std::string::npos) << read.ToString();
  Status write = stuck.CreateStream(ctx_, {.stream_name = "s"});
  EXPECT_EQ(write.code(), ErrorCode::kInternalFailure) << write.ToString();
  StatusOr<broker::PutRecordsResult> put = Wait<broker::PutRecordsResult>([&](auto done) {
    stuck.PutRecordsAsync(ctx_,
                          {.stream = {"s"}, .records = std::vector<broker::PutRecordsEntry>(1)},
                          std::move(done));
  });
  EXPECT_EQ(put.status().code(), ErrorCode::kInternalFailure) << put.status().ToString();
  ::close(silent);
}

// With a credentials file: a call with no caller of its own (a node's own, such as a moved shard's
// copy) carries the cluster key the channel was given; a forwarded call carries its caller's key,
// which the peer authorizes instead.
TEST_F(PeerClientTest, CallsWithoutACallerCarryTheClusterKey) {
  auto keys = auth::KeySet::Parse(R"(
[[key]]
id = "AKIAREADER"
secret = "reader-secret"
account = "123456789012"
streams = ["*"]
operations = ["read"]

[[key]]
id = "AKIANODES"
secret = "nodes-secret"
account = "123456789012"
streams = []
operations = ["cluster"]
)",
                                  "test");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  auth::Credentials credentials(*keys);
  auto server =
      grpc_api::GrpcServer::Start(*broker_, "127.0.0.1", 0, {}, &clock_, {}, &credentials);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
  PeerClient node(
      NewPeerChannel(
          address, {.authorization = [] { return std::string("Bearer AKIANODES:nodes-secret"); }}),
      {.name = "node with the key"});
  PeerClient keyless(NewPeerChannel(address), {.name = "node without a key"});

  EXPECT_TRUE(node.CreateStream(ctx_, {.stream_name = "by-node", .shard_count = 1}).ok());
  Status refused = keyless.CreateStream(ctx_, {.stream_name = "by-nobody", .shard_count = 1});
  EXPECT_EQ(refused.code(), ErrorCode::kUnrecognizedClient) << refused.ToString();
  broker::RequestContext as_reader = ctx_;
  as_reader.caller = (*keys)->Find("AKIAREADER");
  Status denied = node.CreateStream(as_reader, {.stream_name = "by-reader", .shard_count = 1});
  EXPECT_EQ(denied.code(), ErrorCode::kAccessDenied) << denied.ToString();
  EXPECT_NE(denied.message().find("user/AKIAREADER"), std::string::npos) << denied.ToString();
  EXPECT_TRUE(node.ListStreams(as_reader, {}).ok());
  (*server)->Shutdown();
}

}  // namespace
}  // namespace riffle::cluster
