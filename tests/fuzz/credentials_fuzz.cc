// The credentials file (--credentials-file, TOML): KeySet::Parse on arbitrary text, then the
// lookups a request makes with the keys it accepted.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "server/auth/credentials.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view toml(reinterpret_cast<const char*>(data), size);
  riffle::StatusOr<std::shared_ptr<const riffle::auth::KeySet>> keys =
      riffle::auth::KeySet::Parse(toml, "fuzz.toml");
  if (!keys.ok()) {
    return 0;
  }
  for (std::string_view id : {"AKIAEXAMPLE0000001", "AKIAREADER"}) {  // the seeds' ids
    std::shared_ptr<const riffle::auth::AccessKey> key = (*keys)->Find(id);
    if (key != nullptr) {
      riffle::auth::Authorize(key.get(), "PutRecords", "orders-eu", "us-east-1")
          .IgnoreError();  // a denial is an answer, not a finding
    }
  }
  return 0;
}
