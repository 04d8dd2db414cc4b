#include "client/cli/start_position.h"

#include <charconv>
#include <ctime>

namespace riffle::cli {
namespace {

// Reads exactly `digits` decimal digits at text[pos].
bool ReadDigits(std::string_view text, size_t& pos, size_t digits, int& value) {
  if (pos + digits > text.size()) {
    return false;
  }
  value = 0;
  for (size_t i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += digits;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

Status BadTime(std::string_view text) {
  std::string message = "'";
  message.append(text).append(
      "' is not an RFC 3339 time such as 2024-05-01T12:00:00Z or 2024-05-01T12:00:00.250+09:00");
  return Status(ErrorCode::kValidation, std::move(message));
}

}  // namespace

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

StatusOr<int64_t> ParseRfc3339Millis(std::string_view text) {
  size_t pos = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ReadDigits(text, pos, 4, year) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, month) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, day) ||
      !(Expect(text, pos, 'T') || Expect(text, pos, 't') || Expect(text, pos, ' ')) ||
      !ReadDigits(text, pos, 2, hour) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, minute) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, second)) {
    return BadTime(text);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return BadTime(text);
  }
  int64_t millis = 0;
  if (Expect(text, pos, '.')) {
    int64_t scale = 100;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;  // digits past milliseconds are dropped
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) {
      return BadTime(text);
    }
  }
  int offset_minutes = 0;
  const bool utc = Expect(text, pos, 'Z') || Expect(text, pos, 'z');
  if (!utc) {
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
      return BadTime(text);
    }
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int offset_hour = 0;
    int offset_minute = 0;
    if (!ReadDigits(text, pos, 2, offset_hour) || !Expect(text, pos, ':') ||
        !ReadDigits(text, pos, 2, offset_minute) || offset_hour > 23 || offset_minute > 59) {
      return BadTime(text);
    }
    offset_minutes = sign * (offset_hour * 60 + offset_minute);
  }
  if (pos != text.size()) {
    return BadTime(text);
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset_minutes * 60;
  return seconds * 1000 + millis;
}

std::string FormatRfc3339Millis(int64_t millis) {
  const std::time_t seconds =
      static_cast<std::time_t>(millis >= 0 ? millis / 1000 : (millis - 999) / 1000);
  const int64_t fraction = millis - static_cast<int64_t>(seconds) * 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  const size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(text, length) + "." + std::to_string(1000 + fraction).substr(1) + "Z";
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
