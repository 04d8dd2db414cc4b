#include "server/broker/validation.h"

#include <fmt/format.h>

namespace riffle::broker {
namespace {

std::string Quoted(std::string_view value) { return fmt::format("'{}'", value); }

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool IsDecimalInteger(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) {
    return false;
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

size_t Utf16Length(std::string_view utf8) {
  size_t units = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) != 0x80) {
      units += c >= 0xF0 ? 2 : 1;  // a 4-byte sequence is a surrogate pair in UTF-16
    }
  }
  return units;
}

void Validator::Fail(std::string_view value_text, std::string_view path, std::string_view rule) {
  failures_.push_back(fmt::format("Value {} at '{}' failed to satisfy constraint: {}", value_text,
                                  path, rule));
}

bool Validator::Required(bool present, std::string_view path) {
  if (!present) {
    Fail("null", path, "Member must not be null");
  }
  return present;
}

bool Validator::Length(const std::optional<std::string>& value, std::string_view path,
                       size_t min, size_t max) {
  if (!value) {
    return true;
  }
  if (value->size() < min) {
    Fail(Quoted(*value), path, fmt::format("Member must have length greater than or equal to {}", min));
    return false;
  }
  if (value->size() > max) {
    Fail(Quoted(*value), path, fmt::format("Member must have length less than or equal to {}", max));
    return false;
  }
  return true;
}

bool Validator::CharLength(const std::optional<std::string>& value, std::string_view path,
                           size_t min, size_t max) {
  if (!value) {
    return true;
  }
  const size_t length = Utf16Length(*value);
  if (length < min) {
    Fail(Quoted(*value), path, fmt::format("Member must have length greater than or equal to {}", min));
    return false;
  }
  if (length > max) {
    Fail(Quoted(*value), path, fmt::format("Member must have length less than or equal to {}", max));
    return false;
  }
  return true;
}

bool Validator::BlobLength(const std::optional<std::string>& value, std::string_view path,
                           size_t max) {
  if (!value || value->size() <= max) {
    return true;
  }
  Fail(fmt::format("'java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]'", value->size()), path,
       fmt::format("Member must have length less than or equal to {}", max));
  return false;
}

bool Validator::Count(size_t count, std::string_view path, size_t min, size_t max) {
  if (count < min) {
    Fail("'[]'", path, fmt::format("Member must have length greater than or equal to {}", min));
    return false;
  }
  if (count > max) {
    Fail(fmt::format("'[{} items]'", count), path,
         fmt::format("Member must have length less than or equal to {}", max));
    return false;
  }
  return true;
}

bool Validator::Range(const std::optional<int64_t>& value, std::string_view path, int64_t min,
                      int64_t max) {
  if (!value) {
    return true;
  }
  if (*value < min) {
    Fail(Quoted(std::to_string(*value)), path,
         fmt::format("Member must have value greater than or equal to {}", min));
    return false;
  }
  if (*value > max) {
    Fail(Quoted(std::to_string(*value)), path,
         fmt::format("Member must have value less than or equal to {}", max));
    return false;
  }
  return true;
}

bool Validator::Name(const std::optional<std::string>& value, std::string_view path) {
  if (!Length(value, path, 1, 128)) {
    return false;
  }
  return Pattern(value, path, "[a-zA-Z0-9_.-]+", !value || IsValidName(*value));
}

bool Validator::Pattern(const std::optional<std::string>& value, std::string_view path,
                        std::string_view pattern, bool matches) {
  if (value && !matches) {
    Fail(Quoted(*value), path,
         fmt::format("Member must satisfy regular expression pattern: {}", pattern));
    return false;
  }
  return true;
}

bool Validator::Enum(const std::optional<std::string>& value, std::string_view path,
                     const std::vector<std::string_view>& allowed) {
  if (!value) {
    return true;
  }
  for (std::string_view candidate : allowed) {
    if (*value == candidate) {
      return true;
    }
  }
  Fail(Quoted(*value), path,
       fmt::format("Member must satisfy enum value set: [{}]", fmt::join(allowed, ", ")));
  return false;
}

Status Validator::ToStatus() const {
  if (failures_.empty()) {
    return Status();
  }
  size_t shown = std::min<size_t>(failures_.size(), 10);
  std::vector<std::string> items(failures_.begin(),
                                 failures_.begin() + static_cast<std::ptrdiff_t>(shown));
  return Status(ErrorCode::kValidation,
                fmt::format("{} validation error{} detected: {}", failures_.size(),
                            failures_.size() == 1 ? "" : "s", fmt::join(items, "; ")));
}

}  // namespace riffle::broker
