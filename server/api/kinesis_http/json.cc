#include "server/api/kinesis_http/json.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "server/broker/tokens.h"

namespace riffle::kinesis_http {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// SerializationException messages in the wording of AWS's JSON deserializer, which names the
// Java class it read where it wanted a scalar ("class java.lang.Boolean can not be converted
// to an String"). `wanted` completes the sentence: "an String", "an Integer", "a Blob", ...
std::string ScalarMismatch(element value, std::string_view wanted) {
  switch (value.type()) {
    case element_type::ARRAY: return "Start of list found where not expected";
    case element_type::OBJECT: return "Start of structure or map found where not expected.";
    case element_type::STRING: return "class java.lang.String can not be converted to " + std::string(wanted);
    case element_type::BOOL: return "class java.lang.Boolean can not be converted to " + std::string(wanted);
    default:
      return "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted "
             "to " + std::string(wanted);
  }
}

// A list, map or structure member holding something else.
std::string ContainerMismatch(element value, std::string_view expected) {
  switch (value.type()) {
    case element_type::ARRAY: return "Start of list found where not expected";
    case element_type::OBJECT: return "Start of structure or map found where not expected.";
    default: return std::string(expected);
  }
}

// Why `text` is not base64, as AWS words it.
std::string Base64Problem(std::string_view text) {
  if (text.size() % 4 != 0) {
    return "Base64 encoded length is expected a multiple of 4 bytes but found: " +
           std::to_string(text.size());
  }
  auto in_alphabet = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
  };
  const size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  for (size_t i = 0; i < text.size() - padding; ++i) {
    if (!in_alphabet(text[i])) {
      return std::string("Invalid Base64 character: '") + text[i] + "'";
    }
  }
  return "Invalid last non-pad Base64 character dectected";  // sic: AWS's spelling
}

}  // namespace

JsonDocument::JsonDocument() : parser_([]() -> simdjson::dom::parser& {
  thread_local simdjson::dom::parser parser;
  return parser;
}()) {}

Status JsonDocument::Parse(std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status(ErrorCode::kSerialization, "The request body is empty; it must be a JSON object.");
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end; reserve them instead of copying.
  const size_t length = body.size();
  body.reserve(length + simdjson::SIMDJSON_PADDING);
  element parsed;
  auto error = parser_.parse(body.data(), length, /*realloc_if_needed=*/false).get(parsed);
  if (error != simdjson::SUCCESS) {
    return Status(ErrorCode::kSerialization,
                  std::string("Request body is not valid JSON: ") + simdjson::error_message(error));
  }
  if (parsed.type() != element_type::OBJECT) {
    return Status(ErrorCode::kSerialization, ContainerMismatch(parsed, "Expected null"));
  }
  root_ = parsed;
  return Status();
}

void JsonObject::Fail(std::string message) const {
  if (error_->ok()) {
    *error_ = Status(ErrorCode::kSerialization, std::move(message));
  }
}

bool JsonObject::Lookup(std::string_view name, element& out) const {
  simdjson::dom::object object;
  if (object_.get(object) != simdjson::SUCCESS) {
    return false;
  }
  if (object.at_key(name).get(out) != simdjson::SUCCESS) {
    return false;
  }
  return out.type() != element_type::NULL_VALUE;
}

std::optional<std::string> JsonObject::String(std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  std::string_view s;
  if (value.get(s) != simdjson::SUCCESS) {
    Fail(ScalarMismatch(value, "an String"));
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<int64_t> JsonObject::Integer(std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  // Every integer member of the Kinesis model is a 32-bit Integer: AWS truncates a fraction
  // and saturates a value beyond the range (100000000000 reads as 2147483647), and its
  // range checks then report the saturated value.
  auto saturate = [](double d) {
    return static_cast<int64_t>(std::clamp(std::trunc(d), double{INT32_MIN}, double{INT32_MAX}));
  };
  int64_t i = 0;
  if (value.get(i) == simdjson::SUCCESS) {
    return saturate(static_cast<double>(i));
  }
  double d = 0;
  if (value.get(d) == simdjson::SUCCESS && !std::isnan(d)) {
    return saturate(d);
  }
  if (value.type() == element_type::UINT64) {
    return INT32_MAX;
  }
  Fail(ScalarMismatch(value, "an Integer"));
  return std::nullopt;
}

std::optional<bool> JsonObject::Bool(std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  bool b = false;
  if (value.get(b) != simdjson::SUCCESS) {
    std::string_view text;
    Fail(value.get(text) == simdjson::SUCCESS
             ? "'" + std::string(text) + "' can not be converted to an Boolean"
             : ScalarMismatch(value, "an Boolean"));
    return std::nullopt;
  }
  return b;
}

std::optional<int64_t> JsonObject::TimestampMillis(std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  int64_t i = 0;
  if (value.get(i) == simdjson::SUCCESS && i > -9'000'000'000'000 && i < 9'000'000'000'000) {
    return i * 1000;
  }
  double d = 0;
  if (value.get(d) == simdjson::SUCCESS && std::isfinite(d) && std::fabs(d) < 9e12) {
    return static_cast<int64_t>(std::llround(d * 1000.0));
  }
  Fail(ScalarMismatch(value, "milliseconds since epoch"));
  return std::nullopt;
}

std::optional<std::string> JsonObject::Blob(std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS) {
    Fail(ScalarMismatch(value, "a Blob"));
    return std::nullopt;
  }
  std::optional<std::string> bytes = broker::Base64Decode(text);
  if (!bytes) {
    Fail("'" + std::string(text) + "' can not be converted to a Blob: " + Base64Problem(text));
    return std::nullopt;
  }
  return bytes;
}

std::optional<std::map<std::string, std::string>> JsonObject::StringMap(
    std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  simdjson::dom::object object;
  if (value.get(object) != simdjson::SUCCESS) {
    Fail(ContainerMismatch(value, "Expected map or null"));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (auto field : object) {
    std::string_view s;
    if (field.value.type() == element_type::NULL_VALUE) {
      continue;
    }
    if (field.value.get(s) != simdjson::SUCCESS) {
      Fail(ScalarMismatch(field.value, "an String"));
      return std::nullopt;
    }
    out[std::string(field.key)] = std::string(s);
  }
  return out;
}

std::optional<std::vector<std::string>> JsonObject::StringList(std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  simdjson::dom::array array;
  if (value.get(array) != simdjson::SUCCESS) {
    Fail(ContainerMismatch(value, "Expected list or null"));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (element item : array) {
    std::string_view s;
    if (item.get(s) != simdjson::SUCCESS) {
      Fail(ScalarMismatch(item, "an String"));
      return std::nullopt;
    }
    out.emplace_back(s);
  }
  return out;
}

std::optional<JsonObject> JsonObject::Object(std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  if (value.type() != element_type::OBJECT) {
    Fail(ContainerMismatch(value, "Expected null"));
    return std::nullopt;
  }
  return JsonObject(value, error_);
}

std::optional<std::vector<JsonObject>> JsonObject::ObjectList(std::string_view name) const {
  element value;
  if (!Lookup(name, value)) {
    return std::nullopt;
  }
  simdjson::dom::array array;
  if (value.get(array) != simdjson::SUCCESS) {
    Fail(ContainerMismatch(value, "Expected list or null"));
    return std::nullopt;
  }
  std::vector<JsonObject> out;
  for (element item : array) {
    if (item.type() != element_type::OBJECT) {
      Fail(ContainerMismatch(item, "Expected null"));
      return std::nullopt;
    }
    out.emplace_back(item, error_);
  }
  return out;
}

}  // namespace riffle::kinesis_http
