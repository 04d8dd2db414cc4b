// Base64, the encoding of every Kinesis Data blob and of iterators and page tokens: decoding
// arbitrary text must refuse or succeed without reading out of bounds, and any bytes must come
// back unchanged through Base64Encode then Base64Decode.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "server/broker/tokens.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)riffle::broker::Base64Decode(input);
  const std::optional<std::string> round_trip =
      riffle::broker::Base64Decode(riffle::broker::Base64Encode(input));
  if (round_trip != input) {
    std::fprintf(stderr, "Base64Decode(Base64Encode(x)) != x\n");
    std::abort();
  }
  return 0;
}
