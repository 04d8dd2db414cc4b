// SigV4 verification on the Kinesis port, against a fixed key set: the request's method,
// target (path and query: the presigned form), Authorization and X-Amz-Date come from the
// input, each ended by a backslash and one more character (FuzzedDataProvider's
// ConsumeRandomLengthString), and the rest of the input is the body.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "server/auth/credentials.h"
#include "server/auth/sigv4.h"

namespace {

constexpr int64_t kNow = 1764806400;  // 2025-12-04T00:00:00Z, the date of the seed corpus

const riffle::auth::KeySet& Keys() {
  static const std::shared_ptr<const riffle::auth::KeySet> keys =
      riffle::auth::KeySet::Parse(R"([[key]]
id = "AKIAEXAMPLE0000001"
secret = "a-secret"
account = "111122223333"
streams = ["*"]
operations = ["read", "write", "admin"]
)",
                                  "fuzz.toml")
          .value();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  const std::string method = provider.ConsumeRandomLengthString();
  const std::string target = provider.ConsumeRandomLengthString();
  const std::string authorization = provider.ConsumeRandomLengthString();
  const std::string amz_date = provider.ConsumeRandomLengthString();
  const std::string body = provider.ConsumeRemainingBytesAsString();

  riffle::auth::ParseAuthorization(authorization).status().IgnoreError();  // only a crash counts
  const riffle::auth::SignedRequest request{
      .method = method,
      .target = target,
      .headers = {{"Host", "127.0.0.1:4567"},
                  {"X-Amz-Date", amz_date},
                  {"X-Amz-Target", "Kinesis_20131202.PutRecord"},
                  {"Authorization", authorization}},
      .body = body};
  riffle::auth::VerifySigV4(Keys(), request, kNow).status().IgnoreError();
  return 0;
}
