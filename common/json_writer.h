// Writes JSON text: the answers of the Kinesis HTTP API and of the web console's API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace riffle {

// Builds one JSON value. Members and elements are separated automatically.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view name);
  JsonWriter& String(std::string_view value);
  // A string known to need no escaping (base64, digits, ids): copied as is.
  JsonWriter& PlainString(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Number(double value);  // shortest text that reads back the same double
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Epoch seconds with a millisecond fraction: 1459799926.480
  JsonWriter& Timestamp(int64_t millis);
  // Shorthands for a member.
  JsonWriter& Member(std::string_view name, std::string_view value) {
    return Key(name).String(value);
  }
  JsonWriter& MemberInt(std::string_view name, int64_t value) { return Key(name).Int(value); }
  JsonWriter& MemberBool(std::string_view name, bool value) { return Key(name).Bool(value); }

  void Reserve(size_t bytes) { out_.reserve(bytes); }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  // A number or literal, written as given.
  JsonWriter& Literal(std::string_view text);
  std::string out_;
  bool need_comma_ = false;
};

}  // namespace riffle
