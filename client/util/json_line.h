// Writes one JSON object per line for `--json` output of the riffle tools, so scripts can read
// it with jq or any JSON parser. Write-only and tiny on purpose: the tools never parse JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace riffle::tools {

// Builds one JSON object; members appear in the order they were added. The setters have distinct
// names because a string literal would otherwise pick a bool overload.
class JsonObject {
 public:
  JsonObject& AddString(std::string_view key, std::string_view value);
  JsonObject& AddInt(std::string_view key, int64_t value);
  JsonObject& AddDouble(std::string_view key, double value);
  JsonObject& AddBool(std::string_view key, bool value);
  // `json` must already be valid JSON (a nested object or array).
  JsonObject& AddRaw(std::string_view key, std::string_view json);
  // Record data is bytes: "<key>" holds it as text when it is valid UTF-8, "<key>_base64"
  // otherwise, so that text round-trips readably and binary data round-trips exactly.
  JsonObject& AddBytes(std::string_view key, std::string_view bytes);

  std::string Build() const { return body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_ = "{";
};

// A JSON array of already-encoded JSON values.
std::string JsonArray(const std::vector<std::string>& items);

// `text` as a quoted JSON string. Bytes that are not UTF-8 come out as \u00XX, so the output is
// always valid JSON.
std::string JsonQuote(std::string_view text);

bool IsValidUtf8(std::string_view text);
std::string Base64Encode(std::string_view bytes);

}  // namespace riffle::tools
