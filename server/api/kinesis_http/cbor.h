// The CBOR variant of the Kinesis protocol (`application/x-amz-cbor-1.1`), which the Java SDKs
// and so the KCL send by default. The front end serves it by transcoding at the edge: a CBOR
// request becomes the JSON request it stands for, and the JSON reply becomes CBOR, so every
// operation has exactly one implementation.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace riffle::kinesis_http {

inline constexpr std::string_view kCborContentType = "application/x-amz-cbor-1.1";

// The JSON text of one CBOR data item (definite or indefinite lengths). Byte strings become
// base64 strings (the JSON form of a blob); tag 1, which the Java SDKs put on timestamps as
// epoch milliseconds, becomes epoch seconds. SerializationException for malformed input, a map
// key that is not text, nesting deeper than 64, or bytes after the item.
StatusOr<std::string> CborToJson(std::string_view cbor);

// The CBOR form of a JSON reply this front end wrote: members named "Data" hold base64 and
// become byte strings; members whose names end in "Timestamp" hold epoch seconds and become
// tag 1 with epoch milliseconds, as the Java SDKs read them.
std::string JsonToCbor(std::string_view json);

}  // namespace riffle::kinesis_http
