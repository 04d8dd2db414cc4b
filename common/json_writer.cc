#include "common/json_writer.h"

#include <charconv>
#include <cstdio>

namespace riffle {

void JsonWriter::Separate() {
  if (need_comma_) {
    out_.push_back(',');
  }
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view name) {
  String(name);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  Separate();
  out_.reserve(out_.size() + value.size() + 2);
  out_.push_back('"');
  for (char c : value) {
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out_ += buf;
        } else {
          out_.push_back(c);
        }
    }
  }
  out_.push_back('"');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::PlainString(std::string_view value) {
  Separate();
  out_.push_back('"');
  out_.append(value);
  out_.push_back('"');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Literal(std::string_view text) {
  Separate();
  out_.append(text);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return Literal(std::string_view(buf, end - buf));
}

JsonWriter& JsonWriter::Number(double value) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return Literal(std::string_view(buf, end - buf));
}

JsonWriter& JsonWriter::Null() {
  return Literal("null");
}

JsonWriter& JsonWriter::Bool(bool value) {
  return Literal(value ? "true" : "false");
}

JsonWriter& JsonWriter::Timestamp(int64_t millis) {
  char buf[48];
  const int n =
      std::snprintf(buf, sizeof(buf), "%lld.%03lld", static_cast<long long>(millis / 1000),
                    static_cast<long long>(millis % 1000));
  return Literal(std::string_view(buf, static_cast<size_t>(n)));
}

}  // namespace riffle
