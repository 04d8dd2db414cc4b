// The AWS event stream binary framing SubscribeToShard answers with
// (application/vnd.amazon.eventstream): each message is
//   u32 total length | u32 headers length | u32 CRC32(prelude) | headers | payload |
//   u32 CRC32(everything before)
// big-endian, with string-typed headers (type 7: u16 length + UTF-8).
#pragma once

#include <string>
#include <string_view>

namespace riffle::kinesis_http {

// An `event` message: :message-type event, :event-type, :content-type.
std::string EncodeEventMessage(std::string_view event_type, std::string_view content_type,
                               std::string_view payload);
// An `exception` message: :message-type exception, :exception-type, :content-type
// application/json, payload {"message": ...}.
std::string EncodeExceptionMessage(std::string_view exception_type, std::string_view message);

}  // namespace riffle::kinesis_http
