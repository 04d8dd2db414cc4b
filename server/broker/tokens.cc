#include "server/broker/tokens.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <ctime>

#include "common/status.h"

namespace riffle::broker {
namespace {

constexpr size_t kMacBytes = 16;

std::string Mac(const std::string& secret, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return std::string(reinterpret_cast<const char*>(out.data()), kMacBytes);
}

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

uint64_t GetU64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<uint8_t>(in[at + i]);
  }
  return v;
}

std::string FormatTime(int64_t ms) {
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

std::string TokenSigner::Sign(TokenKind kind, std::string_view payload) const {
  std::string message(1, static_cast<char>(kind));
  message.append(payload);
  message.append(Mac(secret_, message));
  return Base64Encode(message);
}

std::optional<std::string> TokenSigner::Verify(TokenKind kind, std::string_view token) const {
  if (token.size() > 4096) {
    return std::nullopt;
  }
  std::optional<std::string> raw = Base64Decode(token);
  if (!raw || raw->size() < 1 + kMacBytes || static_cast<uint8_t>((*raw)[0]) !=
                                                  static_cast<uint8_t>(kind)) {
    return std::nullopt;
  }
  std::string_view message(raw->data(), raw->size() - kMacBytes);
  std::string_view mac(raw->data() + message.size(), kMacBytes);
  if (!ConstantTimeEqual(Mac(secret_, message), mac)) {
    return std::nullopt;
  }
  return std::string(message.substr(1));
}

std::string EncodeIterator(const TokenSigner& signer, const IteratorPosition& position) {
  std::string payload;
  PutU64(payload, position.stream_id);
  PutU64(payload, position.shard_ordinal);
  PutU64(payload, position.offset);
  PutU64(payload, static_cast<uint64_t>(position.issued_ms));
  return signer.Sign(TokenKind::kShardIterator, payload);
}

StatusOr<IteratorPosition> DecodeIterator(const TokenSigner& signer, std::string_view token,
                                          int64_t now_ms, int64_t ttl_ms) {
  std::optional<std::string> payload = signer.Verify(TokenKind::kShardIterator, token);
  if (!payload || payload->size() != 32) {
    return Status(ErrorCode::kInvalidArgument, "Invalid ShardIterator.");
  }
  IteratorPosition position;
  position.stream_id = GetU64(*payload, 0);
  position.shard_ordinal = static_cast<uint32_t>(GetU64(*payload, 8));
  position.offset = GetU64(*payload, 16);
  position.issued_ms = static_cast<int64_t>(GetU64(*payload, 24));
  if (now_ms - position.issued_ms > ttl_ms) {
    return Status(ErrorCode::kExpiredIterator,
                  fmt::format("Iterator expired. The iterator was created at time {} while right "
                              "now it is {} which is further in the future than the tolerated "
                              "delay of {} milliseconds.",
                              FormatTime(position.issued_ms), FormatTime(now_ms), ttl_ms));
  }
  return position;
}

std::string RandomSecret() {
  std::string secret(32, '\0');
  RIFFLE_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                          static_cast<int>(secret.size())) == 1,
               "no randomness for the token secret");
  return secret;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  if (text.empty()) {
    return std::string();
  }
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    bool padding = c == '=' && i >= text.size() - 2 &&
                   (i == text.size() - 1 || text[text.size() - 1] == '=');
    if (!alphabet && !padding) {
      return std::nullopt;
    }
  }
  std::string out(3 * (text.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = 0;
  if (text.back() == '=') {
    padding = text[text.size() - 2] == '=' ? 2 : 1;
  }
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string Md5(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

}  // namespace riffle::broker
