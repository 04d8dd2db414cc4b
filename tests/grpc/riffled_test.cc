#include "tests/grpc/riffled_test.h"

#include <chrono>
#include <thread>

namespace riffle::testing {

void RiffledTest::StartRiffled(int grpc_port) {
  client_.reset();
  RiffledOptions options = Options();
  if (grpc_port != 0) {
    options.grpc_port = grpc_port;
  }
  StatusOr<std::unique_ptr<RiffledProcess>> riffled =
      RiffledProcess::Start(data_dir_, temp_.path() / "riffled.log", options);
  ASSERT_TRUE(riffled.ok()) << riffled.status().ToString();
  riffled_ = std::move(riffled).value();
  client_ = std::make_unique<client::Client>(
      client::ClientOptions{.endpoint = riffled_->grpc_endpoint()});
}

void RiffledTest::StopRiffled() {
  client_.reset();
  if (riffled_ == nullptr) {
    return;
  }
  const int exit_code = riffled_->Terminate();
  EXPECT_EQ(exit_code, 0) << "riffled did not exit cleanly on SIGTERM:\n" << riffled_->LogTail();
  riffled_.reset();
}

void RiffledTest::KillRiffled() {
  client_.reset();
  if (riffled_ != nullptr) {
    riffled_->Kill();
    riffled_.reset();
  }
}

Status RiffledTest::CreateActiveStream(const std::string& stream,
                                       const client::CreateStreamOptions& options) {
  RIFFLE_RETURN_IF_ERROR(client_->CreateStream(stream, options));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    RIFFLE_ASSIGN_OR_RETURN(client::StreamDescription description, client_->DescribeStream(stream));
    if (description.stream_status == "ACTIVE") {
      return Status();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(ErrorCode::kResourceInUse,
                    stream + " still " + description.stream_status + " after 10 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

StatusOr<std::vector<client::Record>> RiffledTest::ReadShard(
    const std::string& stream, const std::string& shard_id,
    const client::IteratorPosition& position) {
  RIFFLE_ASSIGN_OR_RETURN(std::string iterator,
                          client_->GetShardIterator(stream, shard_id, position));
  std::vector<client::Record> records;
  while (!iterator.empty()) {
    RIFFLE_ASSIGN_OR_RETURN(client::GetRecordsResult result, client_->GetRecords(iterator));
    const bool caught_up = result.records.empty() && result.millis_behind_latest == 0;
    for (client::Record& record : result.records) {
      records.push_back(std::move(record));
    }
    if (caught_up) {
      break;
    }
    iterator = std::move(result.next_shard_iterator);
  }
  return records;
}

StatusOr<std::vector<client::Record>> RiffledTest::ReadAll(const std::string& stream) {
  RIFFLE_ASSIGN_OR_RETURN(std::vector<client::Shard> shards, client_->ListShards(stream));
  std::vector<client::Record> records;
  for (const client::Shard& shard : shards) {
    RIFFLE_ASSIGN_OR_RETURN(std::vector<client::Record> part, ReadShard(stream, shard.shard_id));
    records.insert(records.end(), part.begin(), part.end());
  }
  return records;
}

}  // namespace riffle::testing
