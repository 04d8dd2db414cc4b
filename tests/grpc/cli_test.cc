// Drives the `riffle` CLI binary against the real riffled: create, produce from stdin, tail
// --json, tail -f until SIGTERM, split, merge and scale, tail across a split, delete, consumers
// and subscribe until SIGINT, and the error format.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
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

TEST_F(GrpcCliTest, SplitMergeAndScaleReportTheNewShards) {
  ASSERT_EQ(Run({"stream", "create", "s", "--shards", "2"}).exit_code, 0);
  // Shard 0 holds 0..2^127-1; split it at 2^126.
  CliResult split = Run({"stream", "split", "s", "--shard", "shardId-000000000000", "--hash-key",
                         "85070591730234615865843651857942052864"});
  ASSERT_EQ(split.exit_code, 0) << split.err;
  EXPECT_EQ(split.out,
            "split shardId-000000000000 of stream s at hash key "
            "85070591730234615865843651857942052864 into shardId-000000000002 and "
            "shardId-000000000003\n");

  CliResult merge = Run({"--json", "stream", "merge", "s", "--shard", "shardId-000000000003",
                         "--adjacent", "shardId-000000000001"});
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  EXPECT_EQ(merge.out,
            R"({"stream_name":"s","shard_to_merge":"shardId-000000000003",)"
            R"("adjacent_shard_to_merge":"shardId-000000000001",)"
            R"("child_shards":["shardId-000000000004"]})"
            "\n");

  CliResult scale = Run({"stream", "scale", "s", "--shards", "4"});
  ASSERT_EQ(scale.exit_code, 0) << scale.err;
  EXPECT_EQ(scale.out, "scaled stream s from 2 to 4 open shards\n");
  CliResult scale_json = Run({"--json", "stream", "scale", "s", "--shards", "2"});
  ASSERT_EQ(scale_json.exit_code, 0) << scale_json.err;
  EXPECT_EQ(scale_json.out,
            R"({"stream_name":"s","stream_arn":"arn:aws:kinesis:us-east-1:000000000000:stream/s",)"
            R"("current_shard_count":4,"target_shard_count":2})"
            "\n");

  CliResult describe = Run({"stream", "describe", "s"});
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  EXPECT_THAT(describe.out, HasSubstr("Shards:      2 open, "));
  EXPECT_THAT(describe.out, HasSubstr("shardId-000000000004  CLOSED  hash keys "
                                      "85070591730234615865843651857942052864.."
                                      "340282366920938463463374607431768211455  parent "
                                      "shardId-000000000003 + shardId-000000000001\n"));

  CliResult unknown = Run({"stream", "split", "s", "--shard", "shardId-000000000099",
                           "--hash-key", "5"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err,
            "riffle: ResourceNotFoundException: Could not find shard shardId-000000000099 in "
            "stream s under account 000000000000.\n");
  CliResult far_apart = Run({"stream", "merge", "s", "--shard", "shardId-000000000000",
                             "--adjacent", "shardId-000000000001"});
  EXPECT_EQ(far_apart.exit_code, 1);
  EXPECT_THAT(far_apart.err, StartsWith("riffle: ResourceInUseException: "));
}

// The data of one `--json tail` line up to `length` bytes, without a regex: lines here hold
// records of a megabyte.
std::string DataPrefix(const std::string& line, size_t length) {
  const size_t at = line.find("\"data\":\"");
  return at == std::string::npos ? "<no data>" : line.substr(at + 8, length);
}

TEST_F(GrpcCliTest, TailFromTrimHorizonPrintsParentRecordsBeforeChildRecordsAfterASplit) {
  ASSERT_EQ(Run({"stream", "create", "s", "--shards", "1"}).exit_code, 0);
  // More than the 10 MiB one GetRecords call returns, so the parent takes several calls; the
  // children must wait for all of them.
  std::string before;
  std::vector<std::string> expected;
  for (int i = 10; i < 22; ++i) {
    expected.push_back("before-" + std::to_string(i));
    before += expected.back() + " " + std::string(1000 * 1000, 'x') + "\n";
  }
  ASSERT_EQ(Run({"produce", "s", "--key", "k"}, before).exit_code, 0);
  CliResult split = Run({"stream", "split", "s", "--shard", "shardId-000000000000", "--hash-key",
                         "170141183460469231731687303715884105728"});
  ASSERT_EQ(split.exit_code, 0) << split.err;
  // Keys on both children: which key lands where is up to MD5.
  std::map<std::string, std::vector<std::string>> after;
  for (const std::string key : {"k", "j", "user-1", "user-2"}) {
    std::string input;
    for (int i = 0; i < 5; ++i) {
      after[key].push_back("after-" + key + "-" + std::to_string(i));
      input += after[key].back() + "\n";
    }
    ASSERT_EQ(Run({"produce", "s", "--key", key}, input).exit_code, 0);
  }

  CliResult tail = Run({"--json", "tail", "s", "--from", "trim-horizon"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  const std::vector<std::string> lines = Lines(tail.out);
  ASSERT_EQ(lines.size(), expected.size() + 20);
  std::vector<std::string> parent;
  std::set<std::string> child_shards;
  std::map<std::string, std::vector<std::string>> per_key;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string shard = JsonString(lines[i].substr(0, 200), "shard_id");
    if (i < expected.size()) {
      EXPECT_EQ(shard, "shardId-000000000000") << "line " << i;
      parent.push_back(DataPrefix(lines[i], 9));
    } else {
      EXPECT_NE(shard, "shardId-000000000000") << "line " << i << " is a parent record after "
                                              << "child records";
      child_shards.insert(shard);
      const std::string key = JsonString(lines[i].substr(0, 300), "partition_key");
      per_key[key].push_back(DataPrefix(lines[i], 100).substr(0, after[key].front().size()));
    }
  }
  EXPECT_THAT(parent, ElementsAreArray(expected));
  EXPECT_THAT(child_shards, ::testing::IsSubsetOf({"shardId-000000000001",
                                                   "shardId-000000000002"}));
  EXPECT_EQ(per_key, after);
}

TEST_F(GrpcCliTest, TailFollowContinuesIntoTheChildrenOfASplitShard) {
  ASSERT_EQ(Run({"stream", "create", "s", "--shards", "1"}).exit_code, 0);
  const std::string out = scratch_dir() / "follow.out";
  const std::string err = scratch_dir() / "follow.err";
  const pid_t follower = Spawn(Command({"tail", "s", "-f"}), "", out, err);
  ASSERT_GT(follower, 0);
  const auto wait_for_lines = [&](size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Lines(ReadFile(out)).size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Lines(ReadFile(out));
  };
  ASSERT_EQ(Run({"produce", "s", "--key", "k"}, "b0\nb1\n").exit_code, 0);
  ASSERT_EQ(wait_for_lines(2).size(), 2u) << ReadFile(err);
  ASSERT_EQ(Run({"stream", "split", "s", "--shard", "shardId-000000000000", "--hash-key",
                 "170141183460469231731687303715884105728"})
                .exit_code,
            0);
  ASSERT_EQ(Run({"produce", "s", "--key", "k"}, "a0\na1\n").exit_code, 0);
  EXPECT_THAT(wait_for_lines(4), ElementsAreArray({"b0", "b1", "a0", "a1"})) << ReadFile(err);
  kill(follower, SIGTERM);
  EXPECT_EQ(WaitForExit(follower, std::chrono::seconds(10)), 0) << ReadFile(err);
}

TEST_F(GrpcCliTest, ConsumerCommandsRegisterListDescribeAndDeregister) {
  ASSERT_EQ(Run({"stream", "create", "s", "--shards", "1"}).exit_code, 0);
  CliResult registered = Run({"consumer", "register", "s", "billing"});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  EXPECT_THAT(registered.out,
              StartsWith("registered consumer billing on stream s: "
                         "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/billing:"));

  CliResult again = Run({"consumer", "register", "s", "billing"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err,
            "riffle: ResourceInUseException: Consumer billing under stream s already exists for "
            "account 000000000000.\n");

  CliResult list = Run({"--json", "consumer", "list", "s"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  ASSERT_EQ(Lines(list.out).size(), 1u) << list.out;
  EXPECT_EQ(JsonString(list.out, "consumer_name"), "billing");
  EXPECT_EQ(JsonString(list.out, "consumer_status"), "ACTIVE");

  CliResult describe = Run({"consumer", "describe", "s", "billing"});
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  EXPECT_THAT(describe.out, StartsWith("Consumer:    billing\nARN:         arn:"));

  CliResult delete_refused = Run({"stream", "delete", "s"});
  EXPECT_EQ(delete_refused.exit_code, 1);
  EXPECT_THAT(delete_refused.err, StartsWith("riffle: ResourceInUseException: "));

  CliResult deregistered = Run({"consumer", "deregister", "s", "billing"});
  ASSERT_EQ(deregistered.exit_code, 0) << deregistered.err;
  EXPECT_EQ(deregistered.out, "deregistered consumer billing from stream s\n");
  CliResult missing = Run({"consumer", "describe", "s", "billing"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, StartsWith("riffle: ResourceNotFoundException: "));

  ASSERT_EQ(Run({"consumer", "register", "s", "audit"}).exit_code, 0);
  CliResult deleted = Run({"stream", "delete", "s", "--enforce-consumer-deletion"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
}

TEST_F(GrpcCliTest, SubscribePrintsBacklogAndLiveRecordsAndExitsZeroOnSigint) {
  ASSERT_EQ(Run({"stream", "create", "s", "--shards", "1"}).exit_code, 0);
  ASSERT_EQ(Run({"consumer", "register", "s", "c"}).exit_code, 0);
  CliResult produced = Run({"--json", "produce", "s", "--key", "k"}, "b0\nb1\n");
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const std::vector<std::string> acks = Lines(produced.out);
  ASSERT_EQ(acks.size(), 2u);

  const std::string out = scratch_dir() / "subscribe.out";
  const std::string err = scratch_dir() / "subscribe.err";
  const pid_t subscriber =
      Spawn(Command({"--json", "subscribe", "s", "--consumer", "c", "--shard",
                     "shardId-000000000000", "--from", "trim-horizon"}),
            "", out, err);
  ASSERT_GT(subscriber, 0);
  const auto wait_for_lines = [&](size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Lines(ReadFile(out)).size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Lines(ReadFile(out));
  };
  ASSERT_EQ(wait_for_lines(2).size(), 2u) << ReadFile(err);
  ASSERT_EQ(Run({"produce", "s", "--key", "k"}, "live\n").exit_code, 0);
  const std::vector<std::string> records = wait_for_lines(3);
  ASSERT_EQ(records.size(), 3u) << ReadFile(err);
  EXPECT_EQ(JsonString(records[0], "data"), "b0");
  EXPECT_EQ(JsonString(records[0], "sequence_number"), JsonString(acks[0], "sequence_number"));
  EXPECT_EQ(JsonString(records[1], "data"), "b1");
  EXPECT_EQ(JsonString(records[2], "data"), "live");
  EXPECT_EQ(JsonString(records[2], "shard_id"), "shardId-000000000000");
  EXPECT_EQ(JsonString(records[2], "partition_key"), "k");

  kill(subscriber, SIGINT);
  EXPECT_EQ(WaitForExit(subscriber, std::chrono::seconds(5)), 0) << ReadFile(err);
  EXPECT_EQ(ReadFile(err), "");
}

TEST_F(GrpcCliTest, SubscribeWithAnUnknownConsumerIsResourceNotFound) {
  ASSERT_EQ(Run({"stream", "create", "s", "--shards", "1"}).exit_code, 0);
  CliResult subscribe =
      Run({"subscribe", "s", "--consumer", "nobody", "--shard", "shardId-000000000000"});
  EXPECT_EQ(subscribe.exit_code, 1);
  EXPECT_THAT(subscribe.err, StartsWith("riffle: ResourceNotFoundException: Consumer nobody"));
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
