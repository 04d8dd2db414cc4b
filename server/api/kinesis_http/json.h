// The JSON codec of the Kinesis front end (AWS JSON 1.1). Reading is strict about types, as AWS
// is (a string where a number belongs is a SerializationException), and lenient about
// everything else (unknown members are ignored, null means absent). Writing produces compact
// JSON with every string escaped.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/json_writer.h"
#include "common/status.h"

namespace riffle::kinesis_http {

// A view of one JSON object of the request. Each getter returns nullopt for an absent or null
// member and records a SerializationException for a member of the wrong type in the document's
// error(). Borrows the parsed document, which must outlive it.
class JsonObject {
 public:
  JsonObject(simdjson::dom::element object, Status* error) : object_(object), error_(error) {}

  std::optional<std::string> String(std::string_view name) const;
  // A 32-bit Integer member: fractions are truncated, values beyond the range saturate.
  std::optional<int64_t> Integer(std::string_view name) const;
  std::optional<bool> Bool(std::string_view name) const;
  // Seconds since the epoch (integer, decimal or exponent form), as milliseconds.
  std::optional<int64_t> TimestampMillis(std::string_view name) const;
  // A base64 blob, decoded.
  std::optional<std::string> Blob(std::string_view name) const;
  std::optional<std::map<std::string, std::string>> StringMap(std::string_view name) const;
  std::optional<std::vector<std::string>> StringList(std::string_view name) const;
  // Nested objects; the returned views borrow this one's document.
  std::optional<JsonObject> Object(std::string_view name) const;
  std::optional<std::vector<JsonObject>> ObjectList(std::string_view name) const;

 private:
  bool Lookup(std::string_view name, simdjson::dom::element& out) const;
  void Fail(std::string message) const;

  simdjson::dom::element object_;
  Status* error_;
};

// Owns a parsed request body.
class JsonDocument {
 public:
  // Reuses the calling thread's parser: its buffers grow once instead of per request.
  JsonDocument();
  // SerializationException unless `body` is one JSON object (`{}` when there are no members).
  Status Parse(std::string& body);
  JsonObject root() { return JsonObject(root_, &error_); }
  // The first type error any getter met.
  const Status& error() const { return error_; }

 private:
  simdjson::dom::parser& parser_;
  simdjson::dom::element root_;
  Status error_;
};

using riffle::JsonWriter;  // common/json_writer.h: the console writes JSON too

}  // namespace riffle::kinesis_http
