// Drives the `riffle` CLI binary against the real riffled: create, produce from stdin, tail
// --json, tail -f until SIGTERM, delete, and the error format.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/grpc/riffled_test.h"

namespace riffle::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class GrpcCliTest : public RiffledTest {
 protected:
  std::vector<std::string> Command(const std::vector<std::string>& args,
                                   const std::string& binary = RIFFLE_CLI_PATH) const {
    std::vector<std::string> argv = {binary, "--endpoint", riffled_endpoint_};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  void SetUp() override {
    RiffledTest::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    riffled_endpoint_ = riffled().grpc_endpoint();
  }

  // Runs riffle (or `binary`) to completion (deadline 60 s) with `input` on stdin.
  CliResult Run(const std::vector<std::string>& args, const std::string& input = "",
                const std::string& binary = RIFFLE_CLI_PATH) {
    const std::filesystem::path dir = scratch_dir();
    const std::string id = std::to_string(runs_++);
    const std::string in = dir / ("cli-" + id + ".in");
    const std::string out = dir / ("cli-" + id + ".out");
    const std::string err = dir / ("cli-" + id + ".err");
    std::ofstream(in, std::ios::binary) << input;
    const pid_t pid = Spawn(Command(args, binary), in, out, err);
    CliResult result;
    if (pid < 0) {
      ADD_FAILURE() << "cannot start " << binary;
      return result;
    }
    result.exit_code = WaitForExit(pid, std::chrono::seconds(60));
    result.out = ReadFile(out);
    result.err = ReadFile(err);
    return result;
  }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      lines.push_back(text.substr(start, end - start));
    }
    return lines;
  }

  // The value of a string member in one line of --json output.
  static std::string JsonString(const std::string& line, const std::string& key) {
    std::smatch match;
    const std::regex pattern("\"" + key + "\":\"([^\"]*)\"");
    return std::regex_search(line, match, pattern) ? match[1].str() : "<missing " + key + ">";
  }

 private:
  std::string riffled_endpoint_;
  int runs_ = 0;
};

TEST_F(GrpcCliTest, CreateProduceTailAndDelete) {
  CliResult create = Run({"stream", "create", "clicks", "--shards", "2"});
  ASSERT_EQ(create.exit_code, 0) << create.err;
  EXPECT_EQ(create.out, "created stream clicks\n");

  CliResult list = Run({"stream", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("clicks"));

  std::string input;
  std::vector<std::string> lines;
  for (int i = 0; i < 1200; ++i) {  // more than two PutRecords batches of 500
    lines.push_back("click " + std::to_string(i) + " \"quoted\"");
    input += lines.back() + "\n";
  }
  CliResult produce = Run({"--json", "produce", "clicks", "--key", "user-7"}, input);
  ASSERT_EQ(produce.exit_code, 0) << produce.err;
  const std::vector<std::string> acks = Lines(produce.out);
  ASSERT_EQ(acks.size(), lines.size());
  EXPECT_THAT(acks[0], StartsWith("{\"line\":1,\"shard_id\":\"shardId-"));
  const std::string shard = JsonString(acks[0], "shard_id");

  CliResult tail = Run({"--json", "tail", "clicks", "--from", "trim-horizon"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  const std::vector<std::string> records = Lines(tail.out);
  ASSERT_EQ(records.size(), lines.size());
  std::vector<std::string> data;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(JsonString(records[i], "shard_id"), shard);
    EXPECT_EQ(JsonString(records[i], "sequence_number"), JsonString(acks[i], "sequence_number"));
    EXPECT_EQ(JsonString(records[i], "partition_key"), "user-7");
    std::string text = records[i];
    const size_t at = text.find("\"data\":\"");
    ASSERT_NE(at, std::string::npos) << text;
    data.push_back(text.substr(at + 8, text.size() - at - 8 - 2));  // up to the closing "}
  }
  std::vector<std::string> escaped;
  for (const std::string& line : lines) {
    escaped.push_back(std::regex_replace(line, std::regex("\""), "\\\""));
  }
  EXPECT_THAT(data, ElementsAreArray(escaped));

  CliResult human =
      Run({"tail", "clicks", "--from", "seq:" + JsonString(acks[1198], "sequence_number")});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_EQ(human.out, lines[1198] + "\n" + lines[1199] + "\n");

  CliResult remove = Run({"stream", "delete", "clicks"});
  ASSERT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_EQ(remove.out, "deleted stream clicks\n");
}

TEST_F(GrpcCliTest, ProduceWithoutJsonPrintsASummary) {
  ASSERT_EQ(Run({"stream", "create", "s", "--shards", "1"}).exit_code, 0);
  CliResult produce = Run({"produce", "s", "--key", "k"}, "a\nb\nc");  // no final newline
  ASSERT_EQ(produce.exit_code, 0) << produce.err;
  EXPECT_EQ(produce.out, "produced 3 records to stream s\n  shardId-000000000000: 3\n");
  CliResult tail = Run({"tail", "s"});
  EXPECT_EQ(tail.out, "a\nb\nc\n");
}

TEST_F(GrpcCliTest, DescribeShowsShardsAsJson) {
  ASSERT_EQ(Run({"stream", "create", "s", "--shards", "3"}).exit_code, 0);
  CliResult describe = Run({"--json", "stream", "describe", "s"});
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  EXPECT_THAT(describe.out, HasSubstr("\"stream_status\":\"ACTIVE\""));
  EXPECT_THAT(describe.out, HasSubstr("\"shard_id\":\"shardId-000000000002\""));
  EXPECT_EQ(Lines(describe.out).size(), 1u);
}

TEST_F(GrpcCliTest, ErrorsPrintTheKinesisCodeAndExitNonZero) {
  CliResult describe = Run({"stream", "describe", "missing"});
  EXPECT_EQ(describe.exit_code, 1);
  EXPECT_EQ(describe.out, "");
  EXPECT_EQ(describe.err,
            "riffle: ResourceNotFoundException: Stream missing under account 000000000000 not "
            "found.\n");

  CliResult bad_from = Run({"tail", "missing", "--from", "yesterday"});
  EXPECT_EQ(bad_from.exit_code, 1);
  EXPECT_THAT(bad_from.err, StartsWith("riffle: ValidationException: --from 'yesterday'"));
}

TEST_F(GrpcCliTest, UnreachableServerIsServiceUnavailable) {
  StopRiffled();
  CliResult list = Run({"stream", "list"});
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_THAT(list.err, StartsWith("riffle: ServiceUnavailable: "));
}

TEST_F(GrpcCliTest, TailFollowPrintsNewRecordsAndExitsZeroOnSigterm) {
  ASSERT_EQ(Run({"stream", "create", "live", "--shards", "2"}).exit_code, 0);
  const std::string out = scratch_dir() / "follow.out";
  const std::string err = scratch_dir() / "follow.err";
  const pid_t follower = Spawn(Command({"tail", "live", "--from", "latest", "-f"}), "", out, err);
  ASSERT_GT(follower, 0);

  // Records written after the follower started must show up; it may take a poll or two.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int written = 0;
  while (Lines(ReadFile(out)).size() < 3 && std::chrono::steady_clock::now() < deadline) {
    const std::string n = std::to_string(written);
    ASSERT_EQ(
        Run({"produce", "live", "--key", n}, std::string("live-").append(n).append("\n")).exit_code,
        0);
    ++written;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::vector<std::string> seen = Lines(ReadFile(out));
  ASSERT_GE(seen.size(), 3u) << ReadFile(err);
  EXPECT_THAT(seen.back(), StartsWith("live-"));

  kill(follower, SIGTERM);
  EXPECT_EQ(WaitForExit(follower, std::chrono::seconds(10)), 0) << ReadFile(err);
}

TEST_F(GrpcCliTest, TailFollowWaitsOutARestartOfRiffled) {
  ASSERT_EQ(Run({"stream", "create", "live", "--shards", "1"}).exit_code, 0);
  const std::string out = scratch_dir() / "follow.out";
  const std::string err = scratch_dir() / "follow.err";
  const pid_t follower = Spawn(Command({"tail", "live", "-f"}), "", out, err);
  ASSERT_GT(follower, 0);
  ASSERT_EQ(Run({"produce", "live", "--key", "k"}, "before\n").exit_code, 0);
  const auto wait_for_lines = [&](size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Lines(ReadFile(out)).size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Lines(ReadFile(out));
  };
  ASSERT_EQ(wait_for_lines(1).size(), 1u) << ReadFile(err);

  // Same port, so the follower's endpoint stays valid across the restart.
  const int port = riffled().grpc_port();
  StopRiffled();
  const auto outage_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ReadFile(err).find("retrying") == std::string::npos &&
         std::chrono::steady_clock::now() < outage_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(ReadFile(err), StartsWith("riffle: ServiceUnavailable: "));
  StartRiffled(port);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(Run({"produce", "live", "--key", "k"}, "after\n").exit_code, 0);

  EXPECT_THAT(wait_for_lines(2), ElementsAreArray({"before", "after"})) << ReadFile(err);
  kill(follower, SIGTERM);
  EXPECT_EQ(WaitForExit(follower, std::chrono::seconds(10)), 0) << ReadFile(err);
  EXPECT_THAT(ReadFile(err), HasSubstr("riffle: reconnected\n"));
}

// With per-shard quotas on, a PROVISIONED shard takes 1000 records/s: produce has to retry the
// throttled entries of its batches until every line is written, once.
class GrpcCliQuotaTest : public GrpcCliTest {
 protected:
  RiffledOptions Options() const override { return {.shard_quotas = "on"}; }
};

TEST_F(GrpcCliQuotaTest, ProduceRetriesThrottledRecordsUntilAllAreWritten) {
  ASSERT_EQ(Run({"stream", "create", "narrow", "--shards", "1"}).exit_code, 0);
  std::string input;
  for (int i = 0; i < 2500; ++i) {
    input.append(std::to_string(i)).append("\n");
  }
  CliResult produce = Run({"--json", "produce", "narrow", "--key", "k"}, input);
  ASSERT_EQ(produce.exit_code, 0) << produce.err;
  EXPECT_EQ(Lines(produce.out).size(), 2500u);

  CliResult tail = Run({"tail", "narrow"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  std::vector<std::string> lines = Lines(tail.out);
  ASSERT_EQ(lines.size(), 2500u);
  std::sort(lines.begin(), lines.end(),
            [](const std::string& a, const std::string& b) { return std::stoi(a) < std::stoi(b); });
  for (int i = 0; i < 2500; ++i) {
    ASSERT_EQ(lines[i], std::to_string(i)) << "missing or duplicated record";
  }
}

TEST_F(GrpcCliTest, BenchWritesAndReadsBackTheRequestedRecords) {
  CliResult bench = Run({"--stream", "bench", "--create", "--shards", "2", "--records", "3000",
                         "--batch-size", "50", "--concurrency", "3", "--read", "--json"},
                        "", RIFFLE_BENCH_PATH);
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  const std::vector<std::string> phases = Lines(bench.out);
  ASSERT_EQ(phases.size(), 2u) << bench.out;
  EXPECT_THAT(phases[0], StartsWith(R"({"phase":"write","records":3000,"bytes":300000,)"));
  EXPECT_THAT(phases[0], HasSubstr(R"("calls":60,"throttled":0,)"));
  EXPECT_THAT(phases[1], StartsWith(R"({"phase":"read","records":3000,"bytes":300000,)"));
  EXPECT_THAT(phases[1], HasSubstr(R"("latency_ms":{"p50":)"));
}

}  // namespace
}  // namespace riffle::testing
