// The event-stream encoder SubscribeToShard answers with (event_stream.h), checked by a decoder
// of its own: Riffle only sends event streams, so the check is that every message the encoder
// makes decodes, under the AWS framing rules, to exactly what it was given. The input picks one
// of the three messages the pump sends, with fuzzed contents:
//   - an event with any event type, content type and payload;
//   - an exception with any type and message, whose payload is {"message": ...};
//   - a SubscribeToShardEvent whose JSON payload (SubscriptionEventJson) carries fuzzed records,
//     continuation, lag and child shards.
// Any mismatch (a length, either CRC, a header, the payload, a JSON member) traps.
#include <simdjson.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "server/api/kinesis_http/event_stream.h"
#include "server/api/kinesis_http/operations.h"
#include "server/broker/tokens.h"
#include "server/broker/types.h"

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

void Check(bool ok) {
  if (!ok) {
    __builtin_trap();
  }
}

// CRC-32 (IEEE 802.3, reflected, as the event-stream prelude and message checksums use), written
// here rather than taken from zlib, which the encoder uses.
uint32_t Crc32(std::string_view bytes) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) {
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      }
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

uint32_t U32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  }
  return v;
}

struct Message {
  Headers headers;
  std::string payload;
};

constexpr uint8_t kStringHeader = 7;

// One message of the framing:
//   u32 total length | u32 headers length | u32 CRC32(prelude) | headers | payload |
//   u32 CRC32(everything before)
// each header: u8 name length | name | u8 type | (type 7) u16 value length | value.
// Riffle sends string headers only, so any other type is a mismatch too.
Message Decode(std::string_view bytes) {
  Check(bytes.size() >= 16);
  const uint32_t total = U32(bytes, 0);
  const uint32_t headers_length = U32(bytes, 4);
  Check(total == bytes.size());
  Check(U32(bytes, 8) == Crc32(bytes.substr(0, 8)));
  Check(U32(bytes, total - 4) == Crc32(bytes.substr(0, total - 4)));
  Check(headers_length <= total - 16);
  Message message;
  std::string_view headers = bytes.substr(12, headers_length);
  while (!headers.empty()) {
    const size_t name_length = static_cast<unsigned char>(headers[0]);
    Check(name_length > 0 && headers.size() >= 1 + name_length + 3);
    std::string name(headers.substr(1, name_length));
    headers.remove_prefix(1 + name_length);
    Check(static_cast<uint8_t>(headers[0]) == kStringHeader);
    const size_t value_length =
        (static_cast<unsigned char>(headers[1]) << 8) | static_cast<unsigned char>(headers[2]);
    headers.remove_prefix(3);
    Check(headers.size() >= value_length);
    message.headers.emplace_back(std::move(name), std::string(headers.substr(0, value_length)));
    headers.remove_prefix(value_length);
  }
  message.payload = bytes.substr(12 + headers_length, total - 16 - headers_length);
  return message;
}

// A string header's value is at most 65,535 bytes (its u16 length); the encoder's header values
// are Riffle's own names, so a longer one is outside its contract.
constexpr size_t kMaxHeaderValue = 0xffff;

// JSON strings are UTF-8: the strings the broker hands the encoder come from requests whose
// decoders (simdjson, proto3 string fields) accept UTF-8 only. Other bytes are still framed and
// checked as bytes; only their JSON is not compared.
bool Utf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

std::string_view Str(simdjson::dom::element element) {
  std::string_view text;
  Check(element.get_string().get(text) == simdjson::SUCCESS);
  return text;
}

simdjson::dom::element Member(simdjson::dom::object object, std::string_view name) {
  simdjson::dom::element element;
  Check(object[name].get(element) == simdjson::SUCCESS);
  return element;
}

simdjson::dom::object ParseObject(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::object object;
  Check(parser.parse(json).get_object().get(object) == simdjson::SUCCESS);
  return object;
}

void EventMessage(FuzzedDataProvider& in) {
  const std::string event_type = in.ConsumeRandomLengthString(kMaxHeaderValue);
  const std::string content_type = in.ConsumeRandomLengthString(kMaxHeaderValue);
  const std::string payload = in.ConsumeRemainingBytesAsString();
  const Message message =
      Decode(riffle::kinesis_http::EncodeEventMessage(event_type, content_type, payload));
  Check(message.headers == Headers{{":message-type", "event"},
                                   {":event-type", event_type},
                                   {":content-type", content_type}});
  Check(message.payload == payload);
}

void ExceptionMessage(FuzzedDataProvider& in) {
  const std::string exception_type = in.ConsumeRandomLengthString(kMaxHeaderValue);
  const std::string text = in.ConsumeRemainingBytesAsString();
  const Message message =
      Decode(riffle::kinesis_http::EncodeExceptionMessage(exception_type, text));
  Check(message.headers == Headers{{":message-type", "exception"},
                                   {":exception-type", exception_type},
                                   {":content-type", "application/json"}});
  if (!Utf8(text)) {
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::object payload = ParseObject(parser, message.payload);
  Check(payload.size() == 1);
  Check(Str(Member(payload, "message")) == text);
}

// A decimal string, as the broker's sequence numbers are (the encoder writes them unescaped).
std::string Decimal(FuzzedDataProvider& in) {
  return std::to_string(in.ConsumeIntegral<uint64_t>());
}

riffle::broker::SubscriptionEvent FuzzedEvent(FuzzedDataProvider& in) {
  riffle::broker::SubscriptionEvent event;
  const int records = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < records; ++i) {
    riffle::broker::Record record;
    record.sequence_number = Decimal(in);
    // Arrival times are the broker clock's milliseconds: from 1970 to the year 2109.
    record.arrival_time_ms = in.ConsumeIntegralInRange<int64_t>(0, int64_t{1} << 42);
    record.partition_key = in.ConsumeRandomLengthString(256);
    record.data = in.ConsumeRandomLengthString();
    if (in.ConsumeBool()) {
      record.encryption_type = in.ConsumeRandomLengthString(16);
    }
    event.records.push_back(std::move(record));
  }
  if (in.ConsumeBool()) {
    event.continuation_sequence_number = Decimal(in);
  }
  event.millis_behind_latest = in.ConsumeIntegral<int64_t>();
  const int children = in.ConsumeIntegralInRange(0, 2);
  for (int i = 0; i < children; ++i) {
    riffle::broker::ChildShard child;
    child.shard_id = in.ConsumeRandomLengthString(64);
    const int parents = in.ConsumeIntegralInRange(1, 2);
    for (int p = 0; p < parents; ++p) {
      child.parent_shards.push_back(in.ConsumeRandomLengthString(64));
    }
    child.hash_key_range.starting_hash_key = Decimal(in);
    child.hash_key_range.ending_hash_key = Decimal(in);
    event.child_shards.push_back(std::move(child));
  }
  return event;
}

bool Utf8(const riffle::broker::SubscriptionEvent& event) {
  for (const auto& record : event.records) {
    if (!Utf8(record.partition_key) || (record.encryption_type && !Utf8(*record.encryption_type))) {
      return false;
    }
  }
  for (const auto& child : event.child_shards) {
    if (!Utf8(child.shard_id)) {
      return false;
    }
    for (const auto& parent : child.parent_shards) {
      if (!Utf8(parent)) {
        return false;
      }
    }
  }
  return true;
}

void CheckEventJson(const riffle::broker::SubscriptionEvent& event, const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::object root = ParseObject(parser, json);
  simdjson::dom::array records;
  Check(Member(root, "Records").get_array().get(records) == simdjson::SUCCESS);
  Check(records.size() == event.records.size());
  size_t i = 0;
  for (simdjson::dom::element element : records) {
    const riffle::broker::Record& record = event.records[i++];
    simdjson::dom::object out;
    Check(element.get_object().get(out) == simdjson::SUCCESS);
    Check(Str(Member(out, "SequenceNumber")) == record.sequence_number);
    double seconds = 0;
    Check(Member(out, "ApproximateArrivalTimestamp").get_double().get(seconds) ==
          simdjson::SUCCESS);
    Check(std::llround(seconds * 1000) == record.arrival_time_ms);
    Check(riffle::broker::Base64Decode(Str(Member(out, "Data"))) == record.data);
    Check(Str(Member(out, "PartitionKey")) == record.partition_key);
    if (record.encryption_type) {
      Check(Str(Member(out, "EncryptionType")) == *record.encryption_type);
    } else {
      Check(out["EncryptionType"].error() == simdjson::NO_SUCH_FIELD);
    }
  }
  if (event.continuation_sequence_number) {
    Check(Str(Member(root, "ContinuationSequenceNumber")) == *event.continuation_sequence_number);
  } else {
    Check(root["ContinuationSequenceNumber"].error() == simdjson::NO_SUCH_FIELD);
  }
  int64_t lag = 0;
  Check(Member(root, "MillisBehindLatest").get_int64().get(lag) == simdjson::SUCCESS);
  Check(lag == event.millis_behind_latest);
  if (event.child_shards.empty()) {
    Check(root["ChildShards"].error() == simdjson::NO_SUCH_FIELD);
    return;
  }
  simdjson::dom::array children;
  Check(Member(root, "ChildShards").get_array().get(children) == simdjson::SUCCESS);
  Check(children.size() == event.child_shards.size());
  i = 0;
  for (simdjson::dom::element element : children) {
    const riffle::broker::ChildShard& child = event.child_shards[i++];
    simdjson::dom::object out;
    Check(element.get_object().get(out) == simdjson::SUCCESS);
    Check(Str(Member(out, "ShardId")) == child.shard_id);
    simdjson::dom::array parents;
    Check(Member(out, "ParentShards").get_array().get(parents) == simdjson::SUCCESS);
    Check(parents.size() == child.parent_shards.size());
    size_t p = 0;
    for (simdjson::dom::element parent : parents) {
      Check(Str(parent) == child.parent_shards[p++]);
    }
    simdjson::dom::object range;
    Check(Member(out, "HashKeyRange").get_object().get(range) == simdjson::SUCCESS);
    Check(Str(Member(range, "StartingHashKey")) == child.hash_key_range.starting_hash_key);
    Check(Str(Member(range, "EndingHashKey")) == child.hash_key_range.ending_hash_key);
  }
}

void SubscribeToShardEvent(FuzzedDataProvider& in) {
  const riffle::broker::SubscriptionEvent event = FuzzedEvent(in);
  const std::string json = riffle::kinesis_http::SubscriptionEventJson(event);
  const Message message = Decode(riffle::kinesis_http::EncodeEventMessage(
      "SubscribeToShardEvent", "application/x-amz-json-1.1", json));
  Check(message.headers == Headers{{":message-type", "event"},
                                   {":event-type", "SubscribeToShardEvent"},
                                   {":content-type", "application/x-amz-json-1.1"}});
  Check(message.payload == json);
  if (Utf8(event)) {
    CheckEventJson(event, json);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0:
      EventMessage(in);
      break;
    case 1:
      ExceptionMessage(in);
      break;
    default:
      SubscribeToShardEvent(in);
      break;
  }
  return 0;
}
