// Shard iterators and page tokens as clients send them back: Verify of every token kind and
// DecodeIterator on arbitrary text, then on the signed bytes directly (VerifyBytes), where the
// fuzzer does not first have to find valid base64.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/broker/tokens.h"

namespace {

using riffle::broker::TokenKind;

constexpr TokenKind kKinds[] = {TokenKind::kShardIterator, TokenKind::kListShards,
                                TokenKind::kListStreams, TokenKind::kListConsumers};
constexpr int64_t kNowMs = 1764806400000;    // 2025-12-04T00:00:00Z
constexpr int64_t kIteratorTtlMs = 300'000;  // AWS's five minutes

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const riffle::broker::TokenSigner signer("a fixed secret for fuzzing");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (TokenKind kind : kKinds) {
    (void)signer.Verify(kind, input);
    (void)signer.VerifyBytes(kind, input);
  }
  riffle::broker::DecodeIterator(signer, input, kNowMs, kIteratorTtlMs)
      .status()
      .IgnoreError();  // only a crash is a finding
  return 0;
}
