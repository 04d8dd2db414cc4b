#include "client/trigger/response.h"

#include <vector>

#include <gtest/gtest.h>

namespace riffle::trigger {
namespace {

std::vector<client::Record> Batch() {
  return {client::Record{.sequence_number = "s1"}, client::Record{.sequence_number = "s2"},
          client::Record{.sequence_number = "s3"}};
}

TEST(JudgeResponse, NoAnswerAcknowledgesTheBatch) {
  EXPECT_EQ(JudgeResponse(std::string("\n"), Batch(), false).done, 3u);
  EXPECT_EQ(JudgeResponse(std::string("null"), Batch(), true).done, 3u);
}

TEST(JudgeResponse, OutputThatIsNotJsonFailsQuotingItsStart) {
  BatchOutcome outcome = JudgeResponse(std::string("Traceback (most recent"), Batch(), false);
  EXPECT_EQ(outcome.done, 0u);
  EXPECT_EQ(outcome.error, "handler output is not JSON: \"Traceback (most recent\"");
}

TEST(JudgeResponse, FailedCallFailsTheBatch) {
  BatchOutcome outcome = JudgeResponse(
      Status(ErrorCode::kInternalFailure, "handler exited with status 3"), Batch(), false);
  EXPECT_EQ(outcome.done, 0u);
  EXPECT_EQ(outcome.error, "handler exited with status 3");
}

TEST(JudgeResponse, BatchItemFailuresAcknowledgeUpToTheFirstFailedRecord) {
  const std::string answer =
      R"({"batchItemFailures": [{"itemIdentifier": "s3"}, {"itemIdentifier": "s2"}]})";
  EXPECT_EQ(JudgeResponse(answer, Batch(), true).done, 1u);
  EXPECT_EQ(JudgeResponse(answer, Batch(), false).done, 3u) << "only with the option";
  EXPECT_EQ(JudgeResponse(std::string(R"({"batchItemFailures": []})"), Batch(), true).done, 3u);
}

TEST(JudgeResponse, UnknownOrEmptyItemIdentifierFailsTheWholeBatch) {
  EXPECT_EQ(JudgeResponse(std::string(R"({"batchItemFailures": [{"itemIdentifier": "s9"}]})"),
                          Batch(), true)
                .done,
            0u);
  EXPECT_EQ(JudgeResponse(std::string(R"({"batchItemFailures": [{"itemIdentifier": ""}]})"),
                          Batch(), true)
                .done,
            0u);
}

}  // namespace
}  // namespace riffle::trigger
