#include "common/rfc3339.h"

#include <ctime>

namespace riffle {
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

}  // namespace riffle
