#include "client/cli/start_position.h"

#include <charconv>

namespace riffle::cli {

StatusOr<client::IteratorPosition> ParseLambdaStartingPosition(std::string_view position,
                                                               std::string_view timestamp) {
  if (position == "AT_TIMESTAMP") {
    if (timestamp.empty()) {
      return Status(ErrorCode::kValidation, "--starting-position AT_TIMESTAMP needs --timestamp");
    }
    RIFFLE_ASSIGN_OR_RETURN(int64_t millis, ParseRfc3339Millis(timestamp));
    return client::IteratorPosition::AtTimestamp(millis);
  }
  if (!timestamp.empty()) {
    return Status(ErrorCode::kValidation,
                  "--timestamp goes only with --starting-position AT_TIMESTAMP");
  }
  if (position == "TRIM_HORIZON") {
    return client::IteratorPosition::TrimHorizon();
  }
  if (position == "LATEST") {
    return client::IteratorPosition::Latest();
  }
  return Status(ErrorCode::kValidation,
                "--starting-position takes TRIM_HORIZON, LATEST or AT_TIMESTAMP, not '" +
                    std::string(position) + "'");
}


StatusOr<client::IteratorPosition> ParseStartPosition(std::string_view spec) {
  if (spec == "trim-horizon") {
    return client::IteratorPosition::TrimHorizon();
  }
  if (spec == "latest") {
    return client::IteratorPosition::Latest();
  }
  if (spec.starts_with("seq:") && spec.size() > 4) {
    return client::IteratorPosition::AtSequenceNumber(std::string(spec.substr(4)));
  }
  if (spec.starts_with("timestamp:")) {
    const std::string_view time = spec.substr(10);
    int64_t millis = 0;
    auto [end, error] = std::from_chars(time.data(), time.data() + time.size(), millis);
    if (!time.empty() && error == std::errc() && end == time.data() + time.size()) {
      return client::IteratorPosition::AtTimestamp(millis);
    }
    RIFFLE_ASSIGN_OR_RETURN(millis, ParseRfc3339Millis(time));
    return client::IteratorPosition::AtTimestamp(millis);
  }
  return Status(ErrorCode::kValidation,
                "--from '" + std::string(spec) +
                    "' is not one of trim-horizon, latest, timestamp:<RFC 3339 time>, seq:<n>");
}

}  // namespace riffle::cli
