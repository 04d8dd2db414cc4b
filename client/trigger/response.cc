#include "client/trigger/response.h"

#include <simdjson.h>

#include <algorithm>

#include <fmt/format.h>

#include "client/util/json_line.h"

namespace riffle::trigger {

BatchOutcome JudgeResponse(const StatusOr<std::string>& response,
                           std::span<const client::Record> batch, bool report_batch_item_failures) {
  if (!response.ok()) {
    return BatchOutcome{.done = 0, .error = response.status().message()};
  }
  const std::string& text = *response;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return BatchOutcome{.done = batch.size(), .error = ""};  // no answer: like returning None
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root) != simdjson::SUCCESS) {
    return BatchOutcome{
        .done = 0,
        .error = fmt::format("handler output is not JSON: {}",
                             tools::JsonQuote(std::string_view(text).substr(0, 80)))};
  }
  simdjson::dom::array failures;
  if (!report_batch_item_failures ||
      root["batchItemFailures"].get_array().get(failures) != simdjson::SUCCESS) {
    return BatchOutcome{.done = batch.size(), .error = ""};
  }
  size_t first_failed = batch.size();
  for (simdjson::dom::element failure : failures) {
    std::string_view id;
    if (failure["itemIdentifier"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
      return BatchOutcome{.done = 0, .error = "batchItemFailures has an item without an id"};
    }
    auto it = std::find_if(batch.begin(), batch.end(),
                           [&](const client::Record& r) { return r.sequence_number == id; });
    if (it == batch.end()) {
      return BatchOutcome{
          .done = 0,
          .error = fmt::format("batchItemFailures names {}, which is not in the batch", id)};
    }
    first_failed = std::min(first_failed, static_cast<size_t>(it - batch.begin()));
  }
  if (first_failed == batch.size()) {
    return BatchOutcome{.done = batch.size(), .error = ""};
  }
  return BatchOutcome{.done = first_failed,
                      .error = fmt::format("the handler reported record {} failed",
                                           batch[first_failed].sequence_number)};
}

}  // namespace riffle::trigger
