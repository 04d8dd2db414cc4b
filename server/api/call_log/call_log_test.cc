#include "server/api/call_log/call_log.h"

#include <memory>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace riffle::call_log {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class CallLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
    spdlog::set_level(spdlog::level::info);
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  static CallRecord Call(std::chrono::milliseconds elapsed) {
    return CallRecord{.api = "kinesis",
                      .operation = "PutRecord",
                      .peer = "127.0.0.1:5000",
                      .key_id = "AKIA1",
                      .outcome = "ok",
                      .message = "",
                      .elapsed = elapsed};
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(CallLogTest, QuickSuccessfulCallsAreLoggedOnlyAtDebugLevel) {
  CallLog({.access_log = false, .slow_call = std::chrono::milliseconds(1000)})
      .Record(Call(std::chrono::milliseconds(3)));
  EXPECT_THAT(out_.str(), IsEmpty());
  spdlog::set_level(spdlog::level::debug);
  CallLog({.access_log = false, .slow_call = std::chrono::milliseconds(1000)})
      .Record(Call(std::chrono::milliseconds(3)));
  EXPECT_THAT(out_.str(), HasSubstr("debug access api=kinesis op=PutRecord peer=127.0.0.1:5000 "
                                    "key=AKIA1 outcome=ok ms=3.0"));
}

TEST_F(CallLogTest, TheAccessLogShowsEveryCallAtInfoLevel) {
  CallLog({.access_log = true, .slow_call = std::chrono::milliseconds(1000)})
      .Record(Call(std::chrono::milliseconds(3)));
  EXPECT_THAT(out_.str(), HasSubstr("info access api=kinesis op=PutRecord"));
}

TEST_F(CallLogTest, SlowCallsAreWarnedAboutButNotSubscriptions) {
  const CallLog log({.access_log = false, .slow_call = std::chrono::milliseconds(100)});
  CallRecord subscription = Call(std::chrono::milliseconds(300'000));
  subscription.streaming = true;
  log.Record(subscription);
  EXPECT_THAT(out_.str(), IsEmpty());
  log.Record(Call(std::chrono::milliseconds(250)));
  EXPECT_THAT(out_.str(), HasSubstr("warning slow call: kinesis PutRecord from 127.0.0.1:5000 "
                                    "(key AKIA1) took 250.0 ms, answered ok"));
}

TEST_F(CallLogTest, UnavailableAnswersAreWarnings) {
  CallRecord refused = Call(std::chrono::milliseconds(1));
  refused.outcome = "ServiceUnavailable";
  refused.message = "shutting down";
  refused.unavailable = true;
  CallLog({.access_log = false, .slow_call = std::chrono::milliseconds(1000)}).Record(refused);
  EXPECT_THAT(out_.str(), HasSubstr("warning kinesis PutRecord from 127.0.0.1:5000 (key AKIA1) "
                                    "answered ServiceUnavailable after 1.0 ms: shutting down"));
}

TEST_F(CallLogTest, ServerErrorsAreLoggedWithTheirMessage) {
  CallRecord failed = Call(std::chrono::milliseconds(2));
  failed.outcome = "InternalFailure";
  failed.message = "storage failure: IO error";
  failed.server_error = true;
  failed.key_id = "";
  CallLog({.access_log = false, .slow_call = std::chrono::milliseconds(1000)}).Record(failed);
  EXPECT_THAT(out_.str(), HasSubstr("error kinesis PutRecord from 127.0.0.1:5000 (key -) failed "
                                    "after 2.0 ms: InternalFailure: storage failure: IO error"));
  EXPECT_THAT(out_.str(), Not(HasSubstr("slow call")));
}

}  // namespace
}  // namespace riffle::call_log
