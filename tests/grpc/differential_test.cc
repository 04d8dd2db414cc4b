// The two front ends must not drift apart: the same scenario through gRPC (the C++ client) and
// through the Kinesis HTTP API (AWS JSON 1.1 over a plain socket) gives the same records,
// sequence numbers, shards and errors, code and message alike.
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "client/util/json_line.h"
#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

struct HttpReply {
  int status = 0;
  std::string body;
};

// The value of a string member of a flat JSON object, or "" when absent. Enough for Kinesis
// responses, whose string values never contain quotes here.
std::string Member(const std::string& json, const std::string& key) {
  std::smatch match;
  const std::regex pattern("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"");
  return std::regex_search(json, match, pattern) ? match[1].str() : "";
}

struct WireRecord {
  std::string sequence_number;
  std::string partition_key;
  std::string data_base64;
  bool operator==(const WireRecord&) const = default;
};

std::ostream& operator<<(std::ostream& out, const WireRecord& record) {
  return out << "{" << record.sequence_number << " " << record.partition_key << " "
             << record.data_base64 << "}";
}

class GrpcHttpDifferentialTest : public RiffledTest {
 protected:
  // One Kinesis API call, on its own connection.
  HttpReply Kinesis(const std::string& operation, const std::string& json) {
    HttpReply reply;
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(riffled().kinesis_port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      close(fd);
      ADD_FAILURE() << "cannot connect to the Kinesis port";
      return reply;
    }
    const std::string request =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        "X-Amz-Target: Kinesis_20131202." +
        operation +
        "\r\nX-Amz-Date: 20240101T000000Z\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/kinesis/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n"
        "Content-Length: " +
        std::to_string(json.size()) + "\r\n\r\n" + json;
    for (size_t sent = 0; sent < request.size();) {
      const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        break;
      }
      sent += static_cast<size_t>(n);
    }
    std::string response;
    char buffer[65536];
    for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
      response.append(buffer, static_cast<size_t>(n));
    }
    close(fd);
    if (response.size() > 12) {
      reply.status = std::stoi(response.substr(9, 3));
    }
    const size_t body = response.find("\r\n\r\n");
    reply.body = body == std::string::npos ? "" : response.substr(body + 4);
    return reply;
  }

  // Every record of a shard from TRIM_HORIZON, through the Kinesis API.
  std::vector<WireRecord> ReadShardOverHttp(const std::string& stream, const std::string& shard) {
    HttpReply iterator =
        Kinesis("GetShardIterator", R"({"StreamName":")" + stream + R"(","ShardId":")" + shard +
                                        R"(","ShardIteratorType":"TRIM_HORIZON"})");
    EXPECT_EQ(iterator.status, 200) << iterator.body;
    HttpReply records = Kinesis(
        "GetRecords", R"({"ShardIterator":")" + Member(iterator.body, "ShardIterator") + R"("})");
    EXPECT_EQ(records.status, 200) << records.body;
    std::vector<WireRecord> out;
    static const std::regex kRecord(R"(\{[^{}]*"SequenceNumber"[^{}]*\})");
    for (auto it = std::sregex_iterator(records.body.begin(), records.body.end(), kRecord);
         it != std::sregex_iterator(); ++it) {
      const std::string object = it->str();
      out.push_back({Member(object, "SequenceNumber"), Member(object, "PartitionKey"),
                     Member(object, "Data")});
    }
    return out;
  }

  std::vector<WireRecord> ReadShardOverGrpc(const std::string& stream, const std::string& shard) {
    StatusOr<std::vector<client::Record>> records = ReadShard(stream, shard);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    std::vector<WireRecord> out;
    if (records.ok()) {
      for (const client::Record& record : *records) {
        out.push_back(
            {record.sequence_number, record.partition_key, tools::Base64Encode(record.data)});
      }
    }
    return out;
  }

  // The same failed call through both front ends must carry the same code and message.
  void ExpectSameError(const std::string& operation, const std::string& json,
                       const Status& grpc_status) {
    SCOPED_TRACE(operation + " " + json.substr(0, 120));
    HttpReply http = Kinesis(operation, json);
    ASSERT_NE(http.status, 200) << http.body;
    ASSERT_FALSE(grpc_status.ok());
    EXPECT_EQ(Member(http.body, "__type"), KinesisName(grpc_status.code()));
    EXPECT_EQ(Member(http.body, "message"), grpc_status.message());
  }
};

TEST_F(GrpcHttpDifferentialTest, BothFrontEndsRouteAndReadTheSameRecords) {
  ASSERT_TRUE(CreateActiveStream("diff", {.shard_count = 3}).ok());
  std::vector<std::pair<std::string, std::string>> acked;  // shard id, sequence number
  for (int i = 0; i < 12; ++i) {
    const std::string key = "key-" + std::to_string(i % 6);
    const std::string data = "payload " + std::to_string(i);
    if (i % 2 == 0) {
      HttpReply put =
          Kinesis("PutRecord", R"({"StreamName":"diff","PartitionKey":")" + key + R"(","Data":")" +
                                   tools::Base64Encode(data) + R"("})");
      ASSERT_EQ(put.status, 200) << put.body;
      acked.emplace_back(Member(put.body, "ShardId"), Member(put.body, "SequenceNumber"));
    } else {
      StatusOr<client::PutRecordResult> put =
          client().PutRecord("diff", {.data = data, .partition_key = key});
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      acked.emplace_back(put->shard_id, put->sequence_number);
    }
  }
  // Records 0 and 6, 1 and 7, ... share a key, one went in over HTTP, the other over gRPC.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(acked[i].first, acked[i + 6].first) << "key-" << i << " routed differently";
  }

  StatusOr<std::vector<client::Shard>> shards = client().ListShards("diff");
  ASSERT_TRUE(shards.ok());
  size_t total = 0;
  for (const client::Shard& shard : *shards) {
    const std::vector<WireRecord> over_grpc = ReadShardOverGrpc("diff", shard.shard_id);
    EXPECT_EQ(ReadShardOverHttp("diff", shard.shard_id), over_grpc) << shard.shard_id;
    for (const WireRecord& record : over_grpc) {
      EXPECT_THAT(acked,
                  ::testing::Contains(std::make_pair(shard.shard_id, record.sequence_number)));
    }
    total += over_grpc.size();
  }
  EXPECT_EQ(total, acked.size());
}

TEST_F(GrpcHttpDifferentialTest, BothFrontEndsDescribeAStreamAlike) {
  ASSERT_TRUE(CreateActiveStream("diff", {.shard_count = 2}).ok());
  HttpReply http = Kinesis("DescribeStream", R"({"StreamName":"diff"})");
  ASSERT_EQ(http.status, 200) << http.body;
  StatusOr<client::StreamDescription> grpc = client().DescribeStream("diff");
  ASSERT_TRUE(grpc.ok()) << grpc.status().ToString();
  EXPECT_EQ(Member(http.body, "StreamARN"), grpc->stream_arn);
  EXPECT_EQ(Member(http.body, "StreamStatus"), grpc->stream_status);
  for (const client::Shard& shard : grpc->shards) {
    EXPECT_THAT(http.body, ::testing::HasSubstr(shard.shard_id));
    EXPECT_THAT(http.body, ::testing::HasSubstr(shard.hash_key_range.ending_hash_key));
    EXPECT_THAT(http.body, ::testing::HasSubstr(shard.starting_sequence_number));
  }
}

TEST_F(GrpcHttpDifferentialTest, BothFrontEndsReportTheSameErrors) {
  ASSERT_TRUE(CreateActiveStream("diff", {.shard_count = 1}).ok());

  ExpectSameError("DescribeStream", R"({"StreamName":"missing"})",
                  client().DescribeStream("missing").status());
  ExpectSameError("CreateStream", R"({"StreamName":"diff","ShardCount":1})",
                  client().CreateStream("diff", {.shard_count = 1}));
  const std::string long_key(257, 'k');
  ExpectSameError("PutRecord",
                  R"({"StreamName":"diff","PartitionKey":")" + long_key + R"(","Data":"eA=="})",
                  client().PutRecord("diff", {.data = "x", .partition_key = long_key}).status());
  const std::string too_big = "340282366920938463463374607431768211456";
  ExpectSameError(
      "PutRecord",
      R"({"StreamName":"diff","PartitionKey":"k","Data":"eA==","ExplicitHashKey":")" + too_big +
          R"("})",
      client()
          .PutRecord("diff", {.data = "x", .partition_key = "k", .explicit_hash_key = too_big})
          .status());
  ExpectSameError("GetRecords", R"({"ShardIterator":"garbage"})",
                  client().GetRecords("garbage").status());
  ExpectSameError(
      "GetShardIterator",
      R"({"StreamName":"diff","ShardId":"shardId-000000000007",)"
      R"("ShardIteratorType":"TRIM_HORIZON"})",
      client()
          .GetShardIterator("diff", "shardId-000000000007", client::IteratorPosition::TrimHorizon())
          .status());
  ExpectSameError("DecreaseStreamRetentionPeriod",
                  R"({"StreamName":"diff","RetentionPeriodHours":23})",
                  client().DecreaseStreamRetentionPeriod("diff", 23));

  std::string records_json;
  std::vector<client::RecordToPut> records;
  for (int i = 0; i < 501; ++i) {
    records_json += std::string(i > 0 ? "," : "") + R"({"PartitionKey":"k","Data":"eA=="})";
    records.push_back({.data = "x", .partition_key = "k"});
  }
  ExpectSameError("PutRecords", R"({"StreamName":"diff","Records":[)" + records_json + "]}",
                  client().PutRecords("diff", records).status());
}

}  // namespace
}  // namespace riffle::testing
