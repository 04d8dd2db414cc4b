// The CBOR request decoder (application/x-amz-cbor-1.1, what the Java SDKs and the KCL send):
// CborToJson on the body, as the front end calls it before the JSON decoder.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/api/kinesis_http/cbor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  riffle::kinesis_http::CborToJson(std::string_view(reinterpret_cast<const char*>(data), size))
      .status()
      .IgnoreError();  // a refusal is a SerializationException; only a crash is a finding
  return 0;
}
