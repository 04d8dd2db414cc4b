#include "server/broker/validation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

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

Status CheckTagCharacters(const std::vector<std::string_view>& texts, std::string_view failed_to) {
  // Letters (bytes >= 0x80 belong to non-ASCII letters and are let through), digits, the space
  // (not tabs or newlines) and _ . / = + - % @ :
  auto allowed = [](unsigned char c) {
    return c >= 0x80 || std::isalnum(c) != 0 || c == ' ' ||
           std::string_view("_./=+-%@:").find(static_cast<char>(c)) != std::string_view::npos;
  };
  for (std::string_view text : texts) {
    if (!std::all_of(text.begin(), text.end(), allowed)) {
      return Status(ErrorCode::kInvalidArgument,
                    "Some tags contain invalid characters. Valid characters: Unicode letters, "
                    "digits, white space, _ . / = + - % @.");
    }
  }
  // A second check in the service refuses the '%' that the first one lets through.
  for (std::string_view text : texts) {
    if (text.find('%') != std::string_view::npos) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("Failed to {} because some tags contained illegal characters. "
                                "The allowed characters are Unicode letters, white-spaces, "
                                "'_',',','/','=','+','-','@'.",
                                failed_to));
    }
  }
  return Status();
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

bool Validator::SizeWithin(std::string_view printed, std::string_view path, size_t size,
                           size_t min, size_t max) {
  if (size < min) {
    Fail(printed, path, fmt::format("Member must have length greater than or equal to {}", min));
    return false;
  }
  if (size > max) {
    Fail(printed, path, fmt::format("Member must have length less than or equal to {}", max));
    return false;
  }
  return true;
}

bool Validator::StringList(const std::vector<std::string>& items, std::string_view path,
                           size_t min_count, size_t max_count, size_t min_length,
                           size_t max_length) {
  const std::string printed = fmt::format("'[{}]'", fmt::join(items, ", "));
  if (!SizeWithin(printed, path, items.size(), min_count, max_count)) {
    return false;
  }
  for (const std::string& item : items) {
    const size_t length = Utf16Length(item);
    if (length < min_length || length > max_length) {
      Fail(printed, path,
           fmt::format("Member must satisfy constraint: [Member must have length less than or "
                       "equal to {}, Member must have length greater than or equal to {}]",
                       max_length, min_length));
      return false;
    }
  }
  return true;
}

bool Validator::TagMap(const std::map<std::string, std::string>& tags, std::string_view path,
                       size_t min_count, size_t max_count) {
  std::string printed = "'{";
  for (const auto& [key, value] : tags) {
    printed += fmt::format("{}{}={}", printed.size() > 2 ? ", " : "", key, value);
  }
  printed += "}'";
  if (!SizeWithin(printed, path, tags.size(), min_count, max_count)) {
    return false;
  }
  bool ok = true;
  auto check = [&](auto length_of, std::string_view what, size_t min, size_t max) {
    for (const auto& entry : tags) {
      const size_t length = length_of(entry);
      if (length < min || length > max) {
        Fail(printed, path,
             fmt::format("{} must satisfy constraint: [Member must have length less than or "
                         "equal to {}, Member must have length greater than or equal to {}]",
                         what, max, min));
        ok = false;
        return;
      }
    }
  };
  check([](const auto& entry) { return Utf16Length(entry.first); }, "Map keys", 1, 128);
  check([](const auto& entry) { return Utf16Length(entry.second); }, "Map value", 0, 256);
  return ok;
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
  // AWS reports every constraint a member breaks: '' fails both the pattern and the length.
  const bool pattern_ok = Pattern(value, path, "[a-zA-Z0-9_.-]+", !value || IsValidName(*value));
  const bool length_ok = Length(value, path, 1, 128);
  return pattern_ok && length_ok;
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

std::vector<std::string_view> TagTexts(const std::map<std::string, std::string>& tags) {
  std::vector<std::string_view> texts;
  for (const auto& [key, value] : tags) {
    texts.push_back(key);
    texts.push_back(value);
  }
  return texts;
}

}  // namespace riffle::broker
