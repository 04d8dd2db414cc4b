// Broker semantics on a real Store in a temp directory, with a manual clock.
#include "server/broker/broker.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/store.h"

namespace riffle::broker {
namespace {

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("riffle-broker-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open(BrokerOptions{});
  }
  void TearDown() override {
    broker_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(BrokerOptions options) {
    broker_.reset();
    store_.reset();
    storage::StoreOptions store_options;
    store_options.data_dir = dir_;
    store_options.fsync = storage::FsyncMode::kNever;
    auto store = storage::Store::Open(store_options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto broker = Broker::Open(*store_, clock_, options);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
  }
  void Create(const std::string& name, int64_t shards) {
    CreateStreamRequest req;
    req.stream_name = name;
    req.shard_count = shards;
    ASSERT_TRUE(broker_->CreateStream(ctx_, req).ok());
  }
  StatusOr<PutRecordResult> Put(const std::string& stream, const std::string& key,
                                const std::string& data) {
    PutRecordRequest req;
    req.stream.name = stream;
    req.partition_key = key;
    req.data = data;
    return broker_->PutRecord(ctx_, req);
  }
  std::string Iterator(const std::string& stream, const std::string& shard,
                       const std::string& type, std::optional<std::string> seq = std::nullopt,
                       std::optional<int64_t> ts = std::nullopt) {
    GetShardIteratorRequest req;
    req.stream.name = stream;
    req.shard_id = shard;
    req.shard_iterator_type = type;
    req.starting_sequence_number = seq;
    req.timestamp_ms = ts;
    StatusOr<std::string> it = broker_->GetShardIterator(ctx_, req);
    EXPECT_TRUE(it.ok()) << it.status().ToString();
    return it.ok() ? *it : "";
  }
  std::vector<std::string> ReadData(const std::string& iterator) {
    clock_.Advance(250);  // stay within the 5 GetRecords calls/s of a provisioned shard
    GetRecordsRequest req;
    req.shard_iterator = iterator;
    StatusOr<GetRecordsResult> got = broker_->GetRecords(ctx_, req);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    std::vector<std::string> out;
    if (got.ok()) {
      for (const Record& r : got->records) {
        out.push_back(r.data);
      }
    }
    return out;
  }

  ManualClock clock_{1'700'000'000'000};
  RequestContext ctx_;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Broker> broker_;
};

TEST_F(BrokerTest, PartitionKeysRouteToTheShardHoldingTheirMd5) {
  Create("s", 4);
  // Vectors: md5(key) as a 128-bit big-endian integer, 4 equal ranges.
  EXPECT_EQ(Put("s", "user-1", "x")->shard_id, "shardId-000000000003");
  EXPECT_EQ(Put("s", "partition-0", "x")->shard_id, "shardId-000000000000");
  EXPECT_EQ(Put("s", "\xc3\xa9", "x")->shard_id, "shardId-000000000001");
  Create("three", 3);
  EXPECT_EQ(Put("three", "user-1", "x")->shard_id, "shardId-000000000002");
}

TEST_F(BrokerTest, ExplicitHashKeyOverridesThePartitionKey) {
  Create("s", 2);
  PutRecordRequest req;
  req.stream.name = "s";
  req.partition_key = "user-1";  // would go to shard 1
  req.data = "x";
  req.explicit_hash_key = "0";
  EXPECT_EQ(broker_->PutRecord(ctx_, req)->shard_id, "shardId-000000000000");
  req.explicit_hash_key = "340282366920938463463374607431768211456";  // 2^128
  StatusOr<PutRecordResult> bad = broker_->PutRecord(ctx_, req);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(BrokerTest, EveryIteratorTypeStartsWhereKinesisSays) {
  Create("s", 1);
  std::vector<std::string> seqs;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(1000);
    seqs.push_back(Put("s", "k", "r" + std::to_string(i))->sequence_number);
  }
  const std::string shard = "shardId-000000000000";
  EXPECT_EQ(ReadData(Iterator("s", shard, "TRIM_HORIZON")).size(), 5u);
  EXPECT_TRUE(ReadData(Iterator("s", shard, "LATEST")).empty());
  EXPECT_EQ(ReadData(Iterator("s", shard, "AT_SEQUENCE_NUMBER", seqs[2])).front(), "r2");
  EXPECT_EQ(ReadData(Iterator("s", shard, "AFTER_SEQUENCE_NUMBER", seqs[2])).front(), "r3");
  EXPECT_EQ(ReadData(Iterator("s", shard, "AT_TIMESTAMP", std::nullopt,
                              1'700'000'000'000 + 3000)).front(),
            "r2");
  // StartingSequenceNumber of the shard is below every record.
  DescribeStreamRequest describe;
  describe.stream.name = "s";
  std::string start = broker_->DescribeStream(ctx_, describe)->shards[0].starting_sequence_number;
  EXPECT_LT(start, seqs[0]);
  EXPECT_EQ(ReadData(Iterator("s", shard, "AFTER_SEQUENCE_NUMBER", start)).size(), 5u);
}

TEST_F(BrokerTest, LatestIteratorSeesLaterWrites) {
  Create("s", 1);
  Put("s", "k", "old").status().IgnoreError();  // only its position matters
  std::string it = Iterator("s", "shardId-000000000000", "LATEST");
  ASSERT_TRUE(Put("s", "k", "new").ok());
  EXPECT_EQ(ReadData(it), std::vector<std::string>{"new"});
}

TEST_F(BrokerTest, ValidationErrorsUseAwsWording) {
  Create("s", 1);
  StatusOr<PutRecordResult> put = Put("s", std::string(257, 'k'), "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), ErrorCode::kValidation);
  EXPECT_NE(put.status().message().find("1 validation error detected: Value '"), std::string::npos);
  EXPECT_NE(put.status().message().find(
                "at 'partitionKey' failed to satisfy constraint: Member must have length less "
                "than or equal to 256"),
            std::string::npos);

  CreateStreamRequest create;
  create.stream_name = "bad name!";
  create.shard_count = 0;
  Status created = broker_->CreateStream(ctx_, create);
  EXPECT_EQ(created.code(), ErrorCode::kValidation);
  EXPECT_NE(created.message().find("2 validation errors detected"), std::string::npos);

  PutRecordsRequest many;
  many.stream.name = "s";
  many.records = std::vector<PutRecordsEntry>(501, PutRecordsEntry{"d", "k", std::nullopt});
  EXPECT_EQ(broker_->PutRecords(ctx_, many).status().code(), ErrorCode::kValidation);

  GetRecordsRequest get;
  get.shard_iterator = Iterator("s", "shardId-000000000000", "LATEST");
  get.limit = 10001;
  EXPECT_EQ(broker_->GetRecords(ctx_, get).status().code(), ErrorCode::kValidation);
}

TEST_F(BrokerTest, StreamErrorsNameTheStreamAndAccount) {
  StatusOr<PutRecordResult> put = Put("missing", "k", "x");
  EXPECT_EQ(put.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(put.status().message(), "Stream missing under account 000000000000 not found.");
  Create("s", 1);
  CreateStreamRequest again;
  again.stream_name = "s";
  again.shard_count = 1;
  Status dup = broker_->CreateStream(ctx_, again);
  EXPECT_EQ(dup.code(), ErrorCode::kResourceInUse);
  EXPECT_EQ(dup.message(), "Stream s under account 000000000000 already exists.");
}

TEST_F(BrokerTest, ForeignSequenceNumberIsRejected) {
  Create("s", 2);
  PutRecordRequest req;
  req.stream.name = "s";
  req.partition_key = "k";
  req.data = "x";
  req.explicit_hash_key = "0";
  std::string seq = broker_->PutRecord(ctx_, req)->sequence_number;  // on shard 0
  GetShardIteratorRequest it;
  it.stream.name = "s";
  it.shard_id = "shardId-000000000001";
  it.shard_iterator_type = "AT_SEQUENCE_NUMBER";
  it.starting_sequence_number = seq;
  StatusOr<std::string> out = broker_->GetShardIterator(ctx_, it);
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(BrokerTest, IteratorsExpireAndSurviveARestart) {
  Create("s", 1);
  ASSERT_TRUE(Put("s", "k", "r0").ok());
  std::string it = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  Open(BrokerOptions{});  // same data dir, same secret
  EXPECT_EQ(ReadData(it), std::vector<std::string>{"r0"});
  clock_.Advance(300'001);
  GetRecordsRequest get;
  get.shard_iterator = it;
  EXPECT_EQ(broker_->GetRecords(ctx_, get).status().code(), ErrorCode::kExpiredIterator);
}

TEST_F(BrokerTest, ProvisionedShardsThrottleAndOnDemandDoNot) {
  Create("p", 1);
  PutRecordsRequest req;
  req.stream.name = "p";
  req.records = std::vector<PutRecordsEntry>(500, PutRecordsEntry{"d", "k", std::nullopt});
  ASSERT_EQ(broker_->PutRecords(ctx_, req)->failed_record_count, 0);
  ASSERT_EQ(broker_->PutRecords(ctx_, req)->failed_record_count, 0);
  StatusOr<PutRecordsResult> third = broker_->PutRecords(ctx_, req);  // 1001st record in 1 s
  ASSERT_EQ(third->failed_record_count, 500);
  EXPECT_EQ(third->records[0].error_code, "ProvisionedThroughputExceededException");
  EXPECT_FALSE(third->records[0].sequence_number.has_value());
  clock_.Advance(1000);
  EXPECT_EQ(broker_->PutRecords(ctx_, req)->failed_record_count, 0);

  CreateStreamRequest od;
  od.stream_name = "od";
  od.stream_mode = "ON_DEMAND";
  ASSERT_TRUE(broker_->CreateStream(ctx_, od).ok());
  req.stream.name = "od";
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(broker_->PutRecords(ctx_, req)->failed_record_count, 0);
  }
}

TEST_F(BrokerTest, GetRecordsCallQuotaIsFivePerSecond) {
  Create("p", 1);
  std::string it = Iterator("p", "shardId-000000000000", "TRIM_HORIZON");
  GetRecordsRequest get;
  get.shard_iterator = it;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(broker_->GetRecords(ctx_, get).ok());
  }
  EXPECT_EQ(broker_->GetRecords(ctx_, get).status().code(),
            ErrorCode::kProvisionedThroughputExceeded);
}

TEST_F(BrokerTest, GetShardIteratorIsFiveCallsPerSecondPerShardInEveryMode) {
  CreateStreamRequest on_demand;
  on_demand.stream_name = "d";
  ASSERT_TRUE(broker_->CreateStream(ctx_, on_demand).ok());
  GetShardIteratorRequest req;
  req.stream.name = "d";
  req.shard_id = "shardId-000000000000";
  req.shard_iterator_type = "LATEST";
  for (int i = 0; i < 50; ++i) {  // ten seconds' worth at once
    ASSERT_TRUE(broker_->GetShardIterator(ctx_, req).ok()) << i;
  }
  StatusOr<std::string> refused = broker_->GetShardIterator(ctx_, req);
  EXPECT_EQ(refused.status().code(), ErrorCode::kProvisionedThroughputExceeded);
  EXPECT_EQ(refused.status().message(),
            "Rate exceeded for shard shardId-000000000000 in stream d under account "
            "000000000000.");
  req.shard_id = "shardId-000000000001";  // another shard has its own rate
  EXPECT_TRUE(broker_->GetShardIterator(ctx_, req).ok());
  req.shard_id = "shardId-000000000000";
  clock_.Advance(200);  // one call's worth comes back in a fifth of a second
  EXPECT_TRUE(broker_->GetShardIterator(ctx_, req).ok());
  EXPECT_FALSE(broker_->GetShardIterator(ctx_, req).ok());
}

TEST_F(BrokerTest, ListShardsIsAThousandCallsPerSecondPerStream) {
  Create("a", 1);
  Create("b", 1);
  ListShardsRequest req;
  req.stream.name = "a";
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(broker_->ListShards(ctx_, req).ok()) << i;
  }
  StatusOr<ListShardsResult> refused = broker_->ListShards(ctx_, req);
  EXPECT_EQ(refused.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(refused.status().message(), "Rate exceeded for stream a under account 000000000000.");
  req.stream.name = "b";
  EXPECT_TRUE(broker_->ListShards(ctx_, req).ok());
  clock_.Advance(1000);
  req.stream.name = "a";
  EXPECT_TRUE(broker_->ListShards(ctx_, req).ok());
}

TEST_F(BrokerTest, ResourcePolicyArnsFollowAwsPattern) {
  Create("s", 1);
  auto get = [&](std::string arn) {
    return broker_->GetResourcePolicy(ctx_, ResourcePolicyRequest{arn, std::nullopt}).status();
  };
  EXPECT_TRUE(get("arn:aws:kinesis:us-east-1:000000000000:stream/s").ok());
  EXPECT_EQ(get("arn:aws:kinesis:us-east-1:000000000000:stream/other").code(),
            ErrorCode::kResourceNotFound);
  for (const char* bad : {"arn:aws:kinesis:us-east-1:000000000000:stream/",
                          "arn:aws:kinesis:us-east-1:00000000000:stream/s",
                          "arn:aws:kinesis:us-east-1:000000000000:stream/a b",
                          "arn:aws:sqs:us-east-1:000000000000:stream/s", "stream/s"}) {
    EXPECT_EQ(get(bad).code(), ErrorCode::kValidation) << bad;
  }
}

TEST_F(BrokerTest, UpdateShardCountScalesAStreamTenTimesIn24Hours) {
  Create("s", 1);
  UpdateShardCountRequest req;
  req.stream.name = "s";
  req.scaling_type = "UNIFORM_SCALING";
  for (int i = 0; i < 10; ++i) {
    req.target_shard_count = i % 2 == 0 ? 2 : 1;
    ASSERT_TRUE(broker_->UpdateShardCount(ctx_, req).ok()) << i;
    clock_.Advance(3600 * 1000);
  }
  req.target_shard_count = 2;
  StatusOr<UpdateShardCountResult> refused = broker_->UpdateShardCount(ctx_, req);
  EXPECT_EQ(refused.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(refused.status().message(),
            "UpdateShardCount failed for stream s under account 000000000000: the stream was "
            "already scaled 10 times in the last 24 hours.");
  clock_.Advance(14 * 3600 * 1000);  // 24 hours after the first scaling
  EXPECT_TRUE(broker_->UpdateShardCount(ctx_, req).ok());
}

TEST_F(BrokerTest, ControlPlaneCallsAreAdmittedAtAwsRatesPerAccount) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(broker_->AdmitCall(ctx_, "DescribeStream", "s").ok()) << i;
  }
  Status refused = broker_->AdmitCall(ctx_, "DescribeStream", "s");
  EXPECT_EQ(refused.code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(refused.message(), "Rate exceeded for stream s under account 000000000000.");
  EXPECT_EQ(broker_->AdmitCall(ctx_, "ListStreams", "").ok(), true);  // its own rate
  RequestContext other = ctx_;
  other.account = "111122223333";  // and every account its own
  EXPECT_TRUE(broker_->AdmitCall(other, "DescribeStream", "s").ok());
  for (int i = 0; i < 49; ++i) {
    ASSERT_TRUE(broker_->AdmitCall(ctx_, "ListStreams", "").ok()) << i;
  }
  EXPECT_EQ(broker_->AdmitCall(ctx_, "ListStreams", "").message(),
            "Rate exceeded for account 000000000000.");
  for (int i = 0; i < 100; ++i) {  // operations without a stated rate are not limited
    ASSERT_TRUE(broker_->AdmitCall(ctx_, "PutRecords", "s").ok()) << i;
  }
  clock_.Advance(100);  // a tenth of a second: one more DescribeStream
  EXPECT_TRUE(broker_->AdmitCall(ctx_, "DescribeStream", "s").ok());
  EXPECT_FALSE(broker_->AdmitCall(ctx_, "DescribeStream", "s").ok());
}

TEST_F(BrokerTest, ShardQuotasOffNeverThrottles) {
  BrokerOptions options;
  options.shard_quotas = false;
  Open(options);
  Create("p", 1);
  PutRecordsRequest req;
  req.stream.name = "p";
  req.records = std::vector<PutRecordsEntry>(500, PutRecordsEntry{"d", "k", std::nullopt});
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(broker_->PutRecords(ctx_, req)->failed_record_count, 0);
  }
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(broker_->AdmitCall(ctx_, "DescribeStream", "p").ok());
    EXPECT_FALSE(Iterator("p", "shardId-000000000000", "LATEST").empty());
  }
}

TEST_F(BrokerTest, RecordsOfOnePutRecordsKeepTheirOrderAndSurviveReopen) {
  Create("s", 1);
  PutRecordsRequest req;
  req.stream.name = "s";
  req.records = std::vector<PutRecordsEntry>{{"r0", "a", std::nullopt},
                                             {"r1", "b", std::nullopt},
                                             {"r2", "c", std::nullopt}};
  StatusOr<PutRecordsResult> put = broker_->PutRecords(ctx_, req);
  ASSERT_TRUE(put.ok());
  EXPECT_LT(*put->records[0].sequence_number, *put->records[1].sequence_number);
  EXPECT_LT(*put->records[1].sequence_number, *put->records[2].sequence_number);
  Open(BrokerOptions{});
  EXPECT_EQ(ReadData(Iterator("s", "shardId-000000000000", "TRIM_HORIZON")),
            (std::vector<std::string>{"r0", "r1", "r2"}));
}

TEST_F(BrokerTest, DeletedNameCanBeReusedWithoutOldData) {
  Create("s", 1);
  ASSERT_TRUE(Put("s", "k", "old").ok());
  DeleteStreamRequest del;
  del.stream.name = "s";
  ASSERT_TRUE(broker_->DeleteStream(ctx_, del).ok());
  Create("s", 1);
  EXPECT_TRUE(ReadData(Iterator("s", "shardId-000000000000", "TRIM_HORIZON")).empty());
  Open(BrokerOptions{});
  EXPECT_TRUE(ReadData(Iterator("s", "shardId-000000000000", "TRIM_HORIZON")).empty());
}

TEST_F(BrokerTest, RetentionTrimsExpiredRecords) {
  Create("s", 1);
  ASSERT_TRUE(Put("s", "k", "old").ok());
  clock_.Advance(25LL * 3600 * 1000);
  ASSERT_TRUE(Put("s", "k", "new").ok());
  broker_->TrimExpiredRecords();
  EXPECT_EQ(ReadData(Iterator("s", "shardId-000000000000", "TRIM_HORIZON")),
            std::vector<std::string>{"new"});
}

TEST_F(BrokerTest, DecreasedRetentionHidesExpiredRecordsBeforeTheyAreTrimmed) {
  Create("s", 1);
  RetentionRequest longer;
  longer.stream.name = "s";
  longer.retention_period_hours = 48;
  ASSERT_TRUE(broker_->IncreaseStreamRetentionPeriod(ctx_, longer).ok());
  ASSERT_TRUE(Put("s", "k", "old").ok());
  clock_.Advance(30LL * 3600 * 1000);
  ASSERT_TRUE(Put("s", "k", "new").ok());
  EXPECT_EQ(ReadData(Iterator("s", "shardId-000000000000", "TRIM_HORIZON")),
            (std::vector<std::string>{"old", "new"}));
  RetentionRequest shorter = longer;
  shorter.retention_period_hours = 24;
  ASSERT_TRUE(broker_->DecreaseStreamRetentionPeriod(ctx_, shorter).ok());
  EXPECT_EQ(ReadData(Iterator("s", "shardId-000000000000", "TRIM_HORIZON")),
            std::vector<std::string>{"new"});
}

TEST_F(BrokerTest, MaxRecordSizeIsPerStreamFromOneToTenMiB) {
  Create("s", 1);
  const std::string two_mib(2 * 1024 * 1024, 'x');
  EXPECT_EQ(Put("s", "k", two_mib).status().code(), ErrorCode::kValidation);
  UpdateMaxRecordSizeRequest req;
  req.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
  req.max_record_size_kib = 10241;
  EXPECT_EQ(broker_->UpdateMaxRecordSize(ctx_, req).code(), ErrorCode::kValidation);
  req.max_record_size_kib = 4096;
  ASSERT_TRUE(broker_->UpdateMaxRecordSize(ctx_, req).ok());
  EXPECT_TRUE(Put("s", "k", two_mib).ok());
  EXPECT_EQ(broker_->DescribeStreamSummary(ctx_, StreamRef{"s", std::nullopt})->max_record_size_kib,
            4096);
  CreateStreamRequest big;
  big.stream_name = "big";
  big.shard_count = 1;
  big.max_record_size_kib = 10240;
  ASSERT_TRUE(broker_->CreateStream(ctx_, big).ok());
  EXPECT_TRUE(Put("big", "k", std::string(10 * 1024 * 1024 - 1, 'y')).ok());
}

TEST_F(BrokerTest, OneSubscriptionPerConsumerAndShardNewerOneTakesOver) {
  Create("s", 1);
  RegisterConsumerRequest reg;
  reg.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
  reg.consumer_name = "app";
  StatusOr<ConsumerDescription> consumer = broker_->RegisterStreamConsumer(ctx_, reg);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  SubscribeRequest req;
  req.consumer_arn = consumer->consumer_arn;
  req.shard_id = "shardId-000000000000";
  req.starting_position = StartingPosition{"TRIM_HORIZON", std::nullopt, std::nullopt};
  StatusOr<Subscription> first = broker_->Subscribe(ctx_, req);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  clock_.Advance(4999);
  EXPECT_EQ(broker_->Subscribe(ctx_, req).status().code(), ErrorCode::kResourceInUse);
  clock_.Advance(2);
  StatusOr<Subscription> second = broker_->Subscribe(ctx_, req);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(broker_->NextEvent(ctx_, *first).status().code(), ErrorCode::kResourceInUse);
  EXPECT_TRUE(broker_->NextEvent(ctx_, *second).ok());
}

TEST_F(BrokerTest, ConsumersListInRegistrationOrderEvenWithinOneMillisecond) {
  Create("s", 1);
  const std::string stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
  // The clock stands still: every consumer is registered in the same millisecond.
  for (const char* name : {"zeta", "alpha", "mid", "beta"}) {
    RegisterConsumerRequest reg;
    reg.stream_arn = stream_arn;
    reg.consumer_name = name;
    ASSERT_TRUE(broker_->RegisterStreamConsumer(ctx_, reg).ok()) << name;
  }
  ListConsumersRequest list;
  list.stream_arn = stream_arn;
  list.max_results = 1;
  std::vector<std::string> paged;
  for (int page = 0; page < 10; ++page) {
    StatusOr<ListConsumersResult> out = broker_->ListStreamConsumers(ctx_, list);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    for (const ConsumerDescription& c : out->consumers) paged.push_back(c.consumer_name);
    if (!out->next_token) break;
    if (page == 0) {
      // The consumer the token names goes away between pages; the rest neither repeat nor drop.
      ASSERT_TRUE(broker_->DeregisterStreamConsumer(ctx_, ConsumerRef{stream_arn, "zeta", {}}).ok());
    }
    list.next_token = out->next_token;
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"zeta", "alpha", "mid", "beta"}));
}

TEST_F(BrokerTest, RetentionBoundsAndDirection) {
  Create("s", 1);
  RetentionRequest req;
  req.stream.name = "s";
  req.retention_period_hours = 23;
  EXPECT_EQ(broker_->IncreaseStreamRetentionPeriod(ctx_, req).code(), ErrorCode::kInvalidArgument);
  req.retention_period_hours = 48;
  EXPECT_TRUE(broker_->IncreaseStreamRetentionPeriod(ctx_, req).ok());
  req.retention_period_hours = 30;
  EXPECT_EQ(broker_->IncreaseStreamRetentionPeriod(ctx_, req).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(broker_->DecreaseStreamRetentionPeriod(ctx_, req).ok());
  DescribeStreamRequest describe;
  describe.stream.name = "s";
  EXPECT_EQ(broker_->DescribeStream(ctx_, describe)->retention_period_hours, 30);
}

TEST_F(BrokerTest, StreamArnAddressesTheStreamAndChecksTheAccount) {
  Create("s", 1);
  StreamRef by_arn{std::nullopt, "arn:aws:kinesis:us-east-1:000000000000:stream/s"};
  EXPECT_TRUE(broker_->DescribeStreamSummary(ctx_, by_arn).ok());
  StreamRef other{std::nullopt, "arn:aws:kinesis:us-east-1:111111111111:stream/s"};
  EXPECT_EQ(broker_->DescribeStreamSummary(ctx_, other).status().code(),
            ErrorCode::kResourceNotFound);
  StreamRef malformed{std::nullopt, "arn:aws:kinesis:us-east-1:0:stream/s"};
  EXPECT_EQ(broker_->DescribeStreamSummary(ctx_, malformed).status().code(),
            ErrorCode::kValidation);
}

// Consumer groups: checkpoints and leases per shard.
class GroupTest : public BrokerTest {
 protected:
  static constexpr char kShard[] = "shardId-000000000000";
  GroupRef Group() const { return GroupRef{.stream = {.name = "s", .arn = {}}, .group_name = "g"}; }
  void CreateGroup(const std::string& start = "TRIM_HORIZON") {
    ASSERT_TRUE(broker_
                    ->CreateConsumerGroup(ctx_, CreateGroupRequest{.group = Group(),
                                                                   .starting_position = start,
                                                                   .timestamp_ms = {}})
                    .ok());
  }
  StatusOr<ShardLease> Lease(const std::string& owner, const std::string& shard = kShard,
                             bool steal = false) {
    return broker_->LeaseShard(ctx_, LeaseShardRequest{.group = Group(),
                                                       .shard_id = shard,
                                                       .owner = owner,
                                                       .lease_duration_ms = 1000,
                                                       .steal = steal});
  }
  Status CheckpointAt(uint64_t lease_counter, const std::string& sequence_number,
                      const std::string& shard = kShard) {
    return broker_->Checkpoint(ctx_, CheckpointRequest{.group = Group(),
                                                       .shard_id = shard,
                                                       .lease_counter = lease_counter,
                                                       .sequence_number = sequence_number});
  }
  // A one-shard stream "s" with one record, group "g" on it, and worker-a's lease with the
  // checkpoint at that record.
  struct Checkpointed {
    std::string sequence_number;
    uint64_t lease_counter = 0;
  };
  Checkpointed CheckpointTheFirstRecord() {
    Create("s", 1);
    Checkpointed out{.sequence_number = Put("s", "k", "a")->sequence_number, .lease_counter = 0};
    CreateGroup();
    StatusOr<ShardLease> lease = Lease("worker-a");
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    out.lease_counter = lease.ok() ? lease->lease_counter : 0;
    EXPECT_TRUE(CheckpointAt(out.lease_counter, out.sequence_number).ok());
    return out;
  }
  GroupShardDescription Described(size_t index = 0) {
    StatusOr<GroupDescription> group = broker_->DescribeConsumerGroup(ctx_, Group());
    EXPECT_TRUE(group.ok()) << group.status().ToString();
    return group.ok() && index < group->shards.size() ? group->shards[index]
                                                      : GroupShardDescription{};
  }
};

TEST_F(GroupTest, WorkerWhoseLeaseWasTakenCannotMoveTheCheckpoint) {
  Create("s", 1);
  const std::string first = Put("s", "k", "a")->sequence_number;
  const std::string second = Put("s", "k", "b")->sequence_number;
  CreateGroup();
  StatusOr<ShardLease> stale = Lease("worker-a");
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  ASSERT_TRUE(CheckpointAt(stale->lease_counter, first).ok());
  clock_.Advance(1001);  // worker-a stalls past its lease
  StatusOr<ShardLease> taken = Lease("worker-b");
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->lease_counter, stale->lease_counter + 1);
  EXPECT_EQ(taken->checkpoint, first);
  Status refused = CheckpointAt(stale->lease_counter, second);
  EXPECT_EQ(refused.code(), ErrorCode::kResourceInUse);
  EXPECT_NE(refused.message().find("was taken over"), std::string::npos) << refused.message();
  EXPECT_EQ(Described().checkpoint, first);
  ASSERT_TRUE(CheckpointAt(taken->lease_counter, second).ok());
  EXPECT_EQ(Described().checkpoint, second);
}

TEST_F(GroupTest, LiveLeaseIsRefusedToOthersAndRenewedForItsHolder) {
  Create("s", 1);
  CreateGroup();
  StatusOr<ShardLease> held = Lease("worker-a");
  ASSERT_TRUE(held.ok());
  StatusOr<ShardLease> other = Lease("worker-b");
  EXPECT_EQ(other.status().code(), ErrorCode::kResourceInUse);
  clock_.Advance(600);
  StatusOr<ShardLease> renewed = Lease("worker-a");
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->lease_counter, held->lease_counter);
  EXPECT_EQ(renewed->lease_expires_ms, clock_.NowMillis() + 1000);
  clock_.Advance(600);  // past the first grant's expiry, within the renewal's
  EXPECT_EQ(Lease("worker-b").status().code(), ErrorCode::kResourceInUse);
}

TEST_F(GroupTest, StolenLeaseFencesItsHolder) {
  Create("s", 1);
  const std::string first = Put("s", "k", "a")->sequence_number;
  CreateGroup();
  StatusOr<ShardLease> held = Lease("worker-a");
  ASSERT_TRUE(held.ok());
  StatusOr<ShardLease> stolen = Lease("worker-b", kShard, /*steal=*/true);
  ASSERT_TRUE(stolen.ok()) << stolen.status().ToString();
  EXPECT_EQ(stolen->lease_counter, held->lease_counter + 1);
  EXPECT_EQ(CheckpointAt(held->lease_counter, first).code(), ErrorCode::kResourceInUse);
  EXPECT_EQ(Lease("worker-a").status().code(), ErrorCode::kResourceInUse);
  EXPECT_TRUE(CheckpointAt(stolen->lease_counter, first).ok());
}

TEST_F(GroupTest, ChildShardWaitsUntilItsParentIsProcessedToItsEnd) {
  Create("s", 1);
  const std::string last = Put("s", "k", "a")->sequence_number;
  CreateGroup();
  SplitShardRequest split;
  split.stream.name = "s";
  split.shard_to_split = kShard;
  split.new_starting_hash_key = "170141183460469231731687303715884105728";
  ASSERT_TRUE(broker_->SplitShard(ctx_, split).ok());
  EXPECT_EQ(Lease("worker-a", "shardId-000000000001").status().code(),
            ErrorCode::kResourceInUse);
  StatusOr<ShardLease> parent = Lease("worker-a");
  ASSERT_TRUE(parent.ok());
  ASSERT_TRUE(CheckpointAt(parent->lease_counter, last).ok());
  EXPECT_TRUE(Described(0).finished);
  EXPECT_EQ(Described(1).parent_shard_ids, std::vector<std::string>{kShard});
  EXPECT_TRUE(Lease("worker-a", "shardId-000000000001").ok());
}

TEST_F(GroupTest, LagCountsRecordsAfterTheCheckpointAndTheAgeOfTheFirst) {
  Create("s", 1);
  const std::string first = Put("s", "k", "a")->sequence_number;
  clock_.Advance(200);
  Put("s", "k", "b").status().IgnoreError();  // only its count matters
  CreateGroup();
  clock_.Advance(300);
  EXPECT_EQ(Described().lag_records, 2u);
  EXPECT_EQ(Described().lag_ms, 500);
  StatusOr<ShardLease> lease = Lease("worker-a");
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(CheckpointAt(lease->lease_counter, first).ok());
  EXPECT_EQ(Described().lag_records, 1u);
  EXPECT_EQ(Described().lag_ms, 300);
  std::vector<GroupLag> lags = broker_->ConsumerGroupLags();
  ASSERT_EQ(lags.size(), 1u);
  EXPECT_EQ(lags[0].records, 1u);
}

TEST_F(GroupTest, LatestStartsAfterTheRecordsWrittenBeforeTheGroup) {
  Create("s", 1);
  Put("s", "k", "old").status().IgnoreError();  // only its position matters
  CreateGroup("LATEST");
  EXPECT_EQ(Described().lag_records, 0u);
  EXPECT_FALSE(Described().checkpoint.empty());
}

TEST_F(GroupTest, CheckpointsAndLeaseCountersSurviveARestart) {
  const Checkpointed first = CheckpointTheFirstRecord();
  Open(BrokerOptions{});
  EXPECT_EQ(Described().checkpoint, first.sequence_number);
  EXPECT_EQ(Described().lease_counter, first.lease_counter);
  EXPECT_EQ(CheckpointAt(first.lease_counter - 1, first.sequence_number).code(),
            ErrorCode::kResourceInUse);
}

TEST_F(GroupTest, UnknownGroupAndTakenNameAreClearErrors) {
  Create("s", 1);
  StatusOr<GroupDescription> missing = broker_->DescribeConsumerGroup(ctx_, Group());
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(missing.status().message(),
            "Consumer group g of stream s under account " + ctx_.account + " not found.");
  CreateGroup();
  EXPECT_EQ(broker_
                ->CreateConsumerGroup(ctx_, CreateGroupRequest{.group = Group(),
                                                               .starting_position = {},
                                                               .timestamp_ms = {}})
                .code(),
            ErrorCode::kResourceInUse);
}

TEST_F(GroupTest, CheckpointPastTheShardsEndIsRefusedOnlyWhereTheEndIsKnown) {
  Create("s", 1);
  const std::string first = Put("s", "k", "a")->sequence_number;
  const std::string never_written = storage::FormatSequenceNumber(0, 1000);
  CreateGroup();
  StatusOr<ShardLease> lease = Lease("worker-a");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(CheckpointAt(lease->lease_counter, never_written).code(),
            ErrorCode::kInvalidArgument);
  // A cluster node records checkpoints its copy may not reach yet; the shard's leader checks.
  BrokerOptions cluster_node;
  cluster_node.shard_ends_known = false;
  Open(cluster_node);
  EXPECT_TRUE(CheckpointAt(lease->lease_counter, never_written).ok());
  EXPECT_EQ(CheckpointAt(lease->lease_counter, first).code(), ErrorCode::kInvalidArgument)
      << "a checkpoint still never moves back";
  EXPECT_EQ(CheckpointAt(lease->lease_counter, storage::FormatSequenceNumber(1, 1)).code(),
            ErrorCode::kInvalidArgument)
      << "nor names another shard";
}

TEST_F(GroupTest, GroupChangesAppliedFromTheClusterCatalogAreSeen) {
  const Checkpointed first = CheckpointTheFirstRecord();
  auto entries = store_->ScanCatalog(storage::kCatalogGroupPrefix);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  const auto [key, value] = entries->front();
  ASSERT_TRUE(broker_->DeleteConsumerGroup(ctx_, Group()).ok());

  storage::CatalogChange put;
  put.puts.emplace_back(key, value);
  ASSERT_TRUE(broker_->ApplyCatalogChange(put).ok());
  EXPECT_EQ(Described().checkpoint, first.sequence_number);
  EXPECT_EQ(Described().lease_owner, "worker-a");
  storage::CatalogChange removed;
  removed.deletes.push_back(key);
  ASSERT_TRUE(broker_->ApplyCatalogChange(removed).ok());
  EXPECT_EQ(broker_->DescribeConsumerGroup(ctx_, Group()).status().code(),
            ErrorCode::kResourceNotFound);
}

TEST_F(GroupTest, DeletingTheStreamDeletesItsGroups) {
  Create("s", 1);
  CreateGroup();
  ASSERT_TRUE(broker_->DeleteStream(ctx_, DeleteStreamRequest{.stream = {.name = "s", .arn = {}},
                                                              .enforce_consumer_deletion = false})
                  .ok());
  Create("s", 1);
  EXPECT_EQ(broker_->DescribeConsumerGroup(ctx_, Group()).status().code(),
            ErrorCode::kResourceNotFound);
}

}  // namespace
}  // namespace riffle::broker
