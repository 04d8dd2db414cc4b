#include "server/api/kinesis_http/event_stream.h"

#include <zlib.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "server/api/kinesis_http/json.h"

namespace riffle::kinesis_http {
namespace {

constexpr uint8_t kStringHeader = 7;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

uint32_t Crc32(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

std::string EncodeMessage(const std::vector<std::pair<std::string_view, std::string_view>>& headers,
                          std::string_view payload) {
  std::string header_block;
  for (const auto& [name, value] : headers) {
    header_block.push_back(static_cast<char>(name.size()));
    header_block.append(name);
    header_block.push_back(static_cast<char>(kStringHeader));
    header_block.push_back(static_cast<char>((value.size() >> 8) & 0xff));
    header_block.push_back(static_cast<char>(value.size() & 0xff));
    header_block.append(value);
  }
  const auto total = static_cast<uint32_t>(16 + header_block.size() + payload.size());
  std::string out;
  out.reserve(total);
  PutU32(out, total);
  PutU32(out, static_cast<uint32_t>(header_block.size()));
  PutU32(out, Crc32(out));
  out.append(header_block);
  out.append(payload);
  PutU32(out, Crc32(out));
  return out;
}

}  // namespace

std::string EncodeEventMessage(std::string_view event_type, std::string_view content_type,
                               std::string_view payload) {
  return EncodeMessage(
      {{":message-type", "event"}, {":event-type", event_type}, {":content-type", content_type}},
      payload);
}

std::string EncodeExceptionMessage(std::string_view exception_type, std::string_view message) {
  JsonWriter payload;
  payload.BeginObject().Member("message", message).EndObject();
  return EncodeMessage({{":message-type", "exception"},
                        {":exception-type", exception_type},
                        {":content-type", "application/json"}},
                       payload.Take());
}

}  // namespace riffle::kinesis_http
