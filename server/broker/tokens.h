// Signed opaque tokens: shard iterators and pagination tokens. A token is base64 of
// kind | payload | HMAC-SHA256(secret, kind | payload)[0..16). The secret lives in the catalog,
// so tokens survive restarts; a token that fails verification is rejected, never trusted.
// Shard iterators carry that signed token inside the frame AWS's iterators have (an 8-byte
// version 1, then zero padding to 152 bytes), so they look alike to tools that inspect them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace riffle::broker {

enum class TokenKind : uint8_t {
  kShardIterator = 1,
  kListShards = 2,
  kListStreams = 3,
  kListConsumers = 4,
};

class TokenSigner {
 public:
  explicit TokenSigner(std::string secret) : secret_(std::move(secret)) {}
  std::string Sign(TokenKind kind, std::string_view payload) const;  // base64
  // The payload, or nullopt for a malformed, forged or foreign-kind token.
  std::optional<std::string> Verify(TokenKind kind, std::string_view token) const;
  // The same on the signed bytes, before base64.
  std::string SignBytes(TokenKind kind, std::string_view payload) const;
  std::optional<std::string> VerifyBytes(TokenKind kind, std::string_view signed_bytes) const;

 private:
  std::string secret_;
};

// Where a shard iterator points.
struct IteratorPosition {
  uint64_t stream_id = 0;
  uint32_t shard_ordinal = 0;
  uint64_t offset = 0;
  int64_t issued_ms = 0;
};

std::string EncodeIterator(const TokenSigner& signer, const IteratorPosition& position);
// InvalidArgument "Invalid ShardIterator." for anything not issued by this server;
// ExpiredIterator once `ttl_ms` has passed since it was issued.
StatusOr<IteratorPosition> DecodeIterator(const TokenSigner& signer, std::string_view token,
                                          int64_t now_ms, int64_t ttl_ms);

// Fixed-width big-endian integers inside token payloads.
void AppendBigEndian64(std::string& out, uint64_t value);
uint64_t ReadBigEndian64(std::string_view in, size_t at);  // in.size() >= at + 8

// Random bytes for a new secret.
std::string RandomSecret();

// Standard base64 with padding (the Kinesis `Data` blob encoding).
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

// MD5 of the bytes, as the 16-byte digest.
std::string Md5(std::string_view bytes);

}  // namespace riffle::broker
