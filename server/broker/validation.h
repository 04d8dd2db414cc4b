// Model-constraint checks that answer ValidationException in AWS's wording:
//   "2 validation errors detected: Value 'x' at 'streamName' failed to satisfy constraint:
//    Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value null at ..."
// Paths use the lowerCamel member names of the Kinesis model (records.3.member.partitionKey).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace riffle::broker {

class Validator {
 public:
  // Each check records a failure and returns whether the value passed.
  bool Required(bool present, std::string_view path);
  bool Length(const std::optional<std::string>& value, std::string_view path, size_t min,
              size_t max);
  // Like Length, counting characters as the service does (UTF-16 code units) instead of bytes.
  bool CharLength(const std::optional<std::string>& value, std::string_view path, size_t min,
                  size_t max);
  // Like Length for a blob; the value is printed as AWS prints a byte buffer.
  bool BlobLength(const std::optional<std::string>& value, std::string_view path, size_t max);
  bool Count(size_t count, std::string_view path, size_t min, size_t max);
  // A list of strings: its size, then one rule covering every member's length (in characters).
  // The list is printed as AWS prints it: '[a, b]'.
  bool StringList(const std::vector<std::string>& items, std::string_view path, size_t min_count,
                  size_t max_count, size_t min_length, size_t max_length);
  // A tag map: its size, key lengths 1..128 and value lengths 0..256, printed '{k=v, k2=v2}'.
  bool TagMap(const std::map<std::string, std::string>& tags, std::string_view path,
              size_t min_count, size_t max_count);
  bool Range(const std::optional<int64_t>& value, std::string_view path, int64_t min,
             int64_t max);
  bool Name(const std::optional<std::string>& value, std::string_view path);  // [a-zA-Z0-9_.-]+
  bool Pattern(const std::optional<std::string>& value, std::string_view path,
               std::string_view pattern, bool matches);
  bool Enum(const std::optional<std::string>& value, std::string_view path,
            const std::vector<std::string_view>& allowed);

  bool ok() const { return failures_.empty(); }
  // OK, or ValidationException listing at most 10 failures.
  Status ToStatus() const;

 private:
  void Fail(std::string_view value_text, std::string_view path, std::string_view rule);
  // The size rule of a list or map, printed as `printed`.
  bool SizeWithin(std::string_view printed, std::string_view path, size_t size, size_t min,
                  size_t max);
  std::vector<std::string> failures_;
};

// Shared pattern checks.
bool IsValidName(std::string_view name);        // 1+ of [a-zA-Z0-9_.-]
bool IsDecimalInteger(std::string_view text);   // 0|([1-9]\d*)
// Length of UTF-8 text in UTF-16 code units: characters outside the BMP count twice.
size_t Utf16Length(std::string_view utf8);

// InvalidArgumentException unless every tag key or value in `texts` uses the characters AWS
// allows. `failed_to` completes AWS's message for a '%': "add tags to stream s under account a".
Status CheckTagCharacters(const std::vector<std::string_view>& texts, std::string_view failed_to);
// Every key and value of `tags`, for CheckTagCharacters.
std::vector<std::string_view> TagTexts(const std::map<std::string, std::string>& tags);

}  // namespace riffle::broker
