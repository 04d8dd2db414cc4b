#include "server/api/kinesis_http/cbor.h"

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "server/api/kinesis_http/json.h"
#include "server/broker/tokens.h"

namespace riffle::kinesis_http {
namespace {

constexpr int kMaxDepth = 64;
constexpr uint8_t kBreak = 0xff;

enum Major : uint8_t {
  kUnsigned = 0,
  kNegative = 1,
  kBytes = 2,
  kText = 3,
  kArray = 4,
  kMap = 5,
  kTag = 6,
  kSimple = 7,
};

double HalfToDouble(uint16_t half) {
  const int exponent = (half >> 10) & 0x1f;
  const int mantissa = half & 0x3ff;
  double value = exponent == 0    ? std::ldexp(mantissa, -24)
                 : exponent == 31 ? (mantissa == 0 ? INFINITY : NAN)
                                  : std::ldexp(mantissa + 1024, exponent - 25);
  return (half & 0x8000) != 0 ? -value : value;
}

class CborToJsonConverter {
 public:
  explicit CborToJsonConverter(std::string_view in)
      : p_(reinterpret_cast<const uint8_t*>(in.data())), end_(p_ + in.size()) {}

  StatusOr<std::string> Convert() {
    Item(0);
    if (ok_ && p_ != end_) {
      Fail("Unexpected bytes after the CBOR request body.");
    }
    if (!ok_) {
      return Status(ErrorCode::kSerialization, error_);
    }
    return out_.Take();
  }

 private:
  struct Head {
    uint8_t major = 0;
    uint8_t info = 0;    // the low 5 bits: 31 means indefinite length (or break)
    uint64_t arg = 0;
  };

  void Fail(std::string message) {
    if (ok_) {
      ok_ = false;
      error_ = std::move(message);
    }
  }

  bool Bytes(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) {
      Fail("The CBOR request body ends in the middle of an item.");
      return false;
    }
    return true;
  }

  uint64_t BigEndian(size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      v = (v << 8) | p_[i];
    }
    p_ += n;
    return v;
  }

  bool ReadHead(Head& head) {
    if (!Bytes(1)) {
      return false;
    }
    head.major = *p_ >> 5;
    head.info = *p_ & 0x1f;
    ++p_;
    if (head.info < 24) {
      head.arg = head.info;
    } else if (head.info <= 27) {
      const size_t n = size_t{1} << (head.info - 24);
      if (!Bytes(n)) {
        return false;
      }
      head.arg = BigEndian(n);
    } else if (head.info != 31 || head.major == kUnsigned || head.major == kNegative ||
               head.major == kTag) {
      Fail("The CBOR request body holds a malformed item.");
      return false;
    }
    return true;
  }

  bool AtBreak() {
    if (!Bytes(1)) {
      return false;
    }
    if (*p_ == kBreak) {
      ++p_;
      return true;
    }
    return false;
  }

  // A text or byte string, definite or as indefinite chunks of the same type.
  bool String(const Head& head, std::string& out) {
    if (head.info != 31) {
      if (!Bytes(head.arg)) {
        return false;
      }
      out.append(reinterpret_cast<const char*>(p_), head.arg);
      p_ += head.arg;
      return true;
    }
    while (ok_ && !AtBreak()) {
      Head chunk;
      if (!ok_ || !ReadHead(chunk)) {
        return false;
      }
      if (chunk.major != head.major || chunk.info == 31) {
        Fail("The CBOR request body holds a malformed indefinite-length string.");
        return false;
      }
      if (!String(chunk, out)) {
        return false;
      }
    }
    return ok_;
  }

  void Item(int depth) {
    if (depth > kMaxDepth) {
      Fail("The CBOR request body nests too deeply.");
      return;
    }
    Head head;
    if (!ReadHead(head)) {
      return;
    }
    switch (head.major) {
      case kUnsigned:
        if (head.arg > static_cast<uint64_t>(INT64_MAX)) {
          out_.Number(static_cast<double>(head.arg));
        } else {
          out_.Int(static_cast<int64_t>(head.arg));
        }
        return;
      case kNegative:
        if (head.arg > static_cast<uint64_t>(INT64_MAX)) {
          out_.Number(-1.0 - static_cast<double>(head.arg));
        } else {
          out_.Int(-1 - static_cast<int64_t>(head.arg));
        }
        return;
      case kBytes: {
        std::string bytes;
        if (String(head, bytes)) {
          out_.PlainString(broker::Base64Encode(bytes));
        }
        return;
      }
      case kText: {
        std::string text;
        if (String(head, text)) {
          out_.String(text);
        }
        return;
      }
      case kArray:
        out_.BeginArray();
        for (uint64_t i = 0; ok_ && (head.info == 31 ? !AtBreak() : i < head.arg); ++i) {
          if (ok_) {
            Item(depth + 1);
          }
        }
        out_.EndArray();
        return;
      case kMap:
        out_.BeginObject();
        for (uint64_t i = 0; ok_ && (head.info == 31 ? !AtBreak() : i < head.arg); ++i) {
          if (!ok_) {
            break;
          }
          Head key;
          std::string name;
          if (!ReadHead(key)) {
            break;
          }
          if (key.major != kText) {
            Fail("The CBOR request body has a map key that is not a text string.");
            break;
          }
          if (!String(key, name)) {
            break;
          }
          out_.Key(name);
          Item(depth + 1);
        }
        out_.EndObject();
        return;
      case kTag:
        if (head.arg == 1) {
          Timestamp();
        } else {
          Item(depth + 1);  // other tags add nothing Kinesis uses
        }
        return;
      case kSimple:
        Simple(head);
        return;
    }
  }

  // Tag 1: the Java SDKs send epoch milliseconds; JSON carries epoch seconds.
  void Timestamp() {
    Head head;
    if (!ReadHead(head)) {
      return;
    }
    double millis = 0;
    if (head.major == kUnsigned) {
      millis = static_cast<double>(head.arg);
    } else if (head.major == kNegative) {
      millis = -1.0 - static_cast<double>(head.arg);
    } else if (head.major == kSimple && head.info >= 25 && head.info <= 27) {
      millis = SimpleNumber(head);
    } else {
      Fail("The CBOR request body has a timestamp that is not a number.");
      return;
    }
    out_.Number(millis / 1000.0);
  }

  double SimpleNumber(const Head& head) {
    if (head.info == 25) {
      return HalfToDouble(static_cast<uint16_t>(head.arg));
    }
    if (head.info == 26) {
      const auto bits = static_cast<uint32_t>(head.arg);
      float f = 0;
      std::memcpy(&f, &bits, sizeof(f));
      return f;
    }
    double d = 0;
    std::memcpy(&d, &head.arg, sizeof(d));
    return d;
  }

  void Simple(const Head& head) {
    if (head.info == 20 || head.info == 21) {
      out_.Bool(head.info == 21);
    } else if (head.info == 22 || head.info == 23) {
      out_.Null();
    } else if (head.info >= 25 && head.info <= 27) {
      const double d = SimpleNumber(head);
      if (!std::isfinite(d)) {
        Fail("The CBOR request body holds a number that is not finite.");
        return;
      }
      out_.Number(d);
    } else {
      Fail("The CBOR request body holds an unexpected simple value.");
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
  JsonWriter out_;
  bool ok_ = true;
  std::string error_;
};

void PutHead(std::string& out, Major major, uint64_t arg) {
  const auto first = static_cast<uint8_t>(major << 5);
  auto put = [&](uint8_t info, int bytes) {
    out.push_back(static_cast<char>(first | info));
    for (int i = bytes - 1; i >= 0; --i) {
      out.push_back(static_cast<char>((arg >> (8 * i)) & 0xff));
    }
  };
  if (arg < 24) {
    put(static_cast<uint8_t>(arg), 0);
  } else if (arg <= 0xff) {
    put(24, 1);
  } else if (arg <= 0xffff) {
    put(25, 2);
  } else if (arg <= 0xffffffff) {
    put(26, 4);
  } else {
    put(27, 8);
  }
}

void PutInt(std::string& out, int64_t v) {
  if (v >= 0) {
    PutHead(out, kUnsigned, static_cast<uint64_t>(v));
  } else {
    PutHead(out, kNegative, static_cast<uint64_t>(-(v + 1)));
  }
}

void PutText(std::string& out, Major major, std::string_view s) {
  PutHead(out, major, s.size());
  out.append(s);
}

void Encode(simdjson::dom::element value, std::string_view member, std::string& out) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object = value.get_object().value_unsafe();
      PutHead(out, kMap, object.size());
      for (auto field : object) {
        PutText(out, kText, field.key);
        Encode(field.value, field.key, out);
      }
      return;
    }
    case element_type::ARRAY: {
      simdjson::dom::array array = value.get_array().value_unsafe();
      PutHead(out, kArray, array.size());
      for (simdjson::dom::element item : array) {
        Encode(item, member, out);
      }
      return;
    }
    case element_type::STRING: {
      std::string_view s = value.get_string().value_unsafe();
      std::optional<std::string> bytes =
          member == "Data" ? broker::Base64Decode(s) : std::nullopt;
      if (bytes) {
        PutText(out, kBytes, *bytes);
      } else {
        PutText(out, kText, s);
      }
      return;
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: {
      const double d = value.get_double().value_unsafe();
      if (member.ends_with("Timestamp")) {
        out.push_back(static_cast<char>(0xc1));  // tag 1
        PutInt(out, std::llround(d * 1000.0));
      } else if (value.type() == element_type::INT64) {
        PutInt(out, value.get_int64().value_unsafe());
      } else if (value.type() == element_type::UINT64) {
        PutHead(out, kUnsigned, value.get_uint64().value_unsafe());
      } else {
        uint64_t bits = 0;
        std::memcpy(&bits, &d, sizeof(bits));
        out.push_back(static_cast<char>(0xfb));
        for (int i = 7; i >= 0; --i) {
          out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
        }
      }
      return;
    }
    case element_type::BOOL:
      out.push_back(static_cast<char>(value.get_bool().value_unsafe() ? 0xf5 : 0xf4));
      return;
    case element_type::NULL_VALUE:
      out.push_back(static_cast<char>(0xf6));
      return;
  }
}

}  // namespace

StatusOr<std::string> CborToJson(std::string_view cbor) {
  if (cbor.empty()) {
    return Status(ErrorCode::kSerialization, "The request body is empty; it must be a CBOR map.");
  }
  return CborToJsonConverter(cbor).Convert();
}

std::string JsonToCbor(std::string_view json) {
  if (json.empty()) {
    return std::string();
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return std::string();  // not reached: the replies are this front end's own JSON
  }
  std::string out;
  out.reserve(json.size());
  Encode(root, "", out);
  return out;
}

}  // namespace riffle::kinesis_http
