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

// A shard iterator: version | kind | 32-byte position | MAC | zeros, 152 bytes in all.
constexpr std::string_view kIteratorVersion("\0\0\0\0\0\0\0\1", 8);
constexpr size_t kSignedIteratorBytes = 1 + 32 + kMacBytes;
constexpr size_t kIteratorBytes = 152;

std::string Mac(const std::string& secret, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return std::string(reinterpret_cast<const char*>(out.data()), kMacBytes);
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

void AppendBigEndian64(std::string& out, uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

uint64_t ReadBigEndian64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<uint8_t>(in[at + i]);
  }
  return v;
}

std::string TokenSigner::SignBytes(TokenKind kind, std::string_view payload) const {
  std::string message(1, static_cast<char>(kind));
  message.append(payload);
  message.append(Mac(secret_, message));
  return message;
}

std::optional<std::string> TokenSigner::VerifyBytes(TokenKind kind,
                                                    std::string_view signed_bytes) const {
  if (signed_bytes.size() < 1 + kMacBytes ||
      static_cast<uint8_t>(signed_bytes[0]) != static_cast<uint8_t>(kind)) {
    return std::nullopt;
  }
  std::string_view message = signed_bytes.substr(0, signed_bytes.size() - kMacBytes);
  std::string_view mac = signed_bytes.substr(message.size());
  if (!ConstantTimeEqual(Mac(secret_, message), mac)) {
    return std::nullopt;
  }
  return std::string(message.substr(1));
}

std::string TokenSigner::Sign(TokenKind kind, std::string_view payload) const {
  return Base64Encode(SignBytes(kind, payload));
}

std::optional<std::string> TokenSigner::Verify(TokenKind kind, std::string_view token) const {
  if (token.size() > 4096) {
    return std::nullopt;
  }
  std::optional<std::string> raw = Base64Decode(token);
  if (!raw) {
    return std::nullopt;
  }
  return VerifyBytes(kind, *raw);
}

std::string EncodeIterator(const TokenSigner& signer, const IteratorPosition& position) {
  std::string payload;
  AppendBigEndian64(payload, position.stream_id);
  AppendBigEndian64(payload, position.shard_ordinal);
  AppendBigEndian64(payload, position.offset);
  AppendBigEndian64(payload, static_cast<uint64_t>(position.issued_ms));
  std::string framed(kIteratorVersion);
  framed += signer.SignBytes(TokenKind::kShardIterator, payload);
  framed.resize(kIteratorBytes, '\0');
  return Base64Encode(framed);
}

StatusOr<IteratorPosition> DecodeIterator(const TokenSigner& signer, std::string_view token,
                                          int64_t now_ms, int64_t ttl_ms) {
  std::optional<std::string> framed =
      token.size() == (kIteratorBytes + 2) / 3 * 4 ? Base64Decode(token) : std::nullopt;
  std::optional<std::string> payload;
  if (framed && framed->starts_with(kIteratorVersion) &&
      framed->find_first_not_of('\0', kIteratorVersion.size() + kSignedIteratorBytes) ==
          std::string::npos) {
    payload = signer.VerifyBytes(
        TokenKind::kShardIterator,
        std::string_view(*framed).substr(kIteratorVersion.size(), kSignedIteratorBytes));
  }
  if (!payload || payload->size() != 32) {
    return Status(ErrorCode::kInvalidArgument, "Invalid ShardIterator.");
  }
  IteratorPosition position;
  position.stream_id = ReadBigEndian64(*payload, 0);
  position.shard_ordinal = static_cast<uint32_t>(ReadBigEndian64(*payload, 8));
  position.offset = ReadBigEndian64(*payload, 16);
  position.issued_ms = static_cast<int64_t>(ReadBigEndian64(*payload, 24));
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

namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet bytes, 64 for '=', 255 for anything else.
constexpr std::array<uint8_t, 256> kBase64Values = [] {
  std::array<uint8_t, 256> table{};
  table.fill(255);
  for (uint8_t i = 0; i < 64; ++i) {
    table[static_cast<uint8_t>(kBase64Alphabet[i])] = i;
  }
  table['='] = 64;
  return table;
}();

}  // namespace

// Table-driven rather than EVP_EncodeBlock/EVP_DecodeBlock: the OpenSSL calls need a separate
// validation pass and padding fix-up, and showed up in profiles of PutRecords/GetRecords.
std::string Base64Encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4, '=');
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t o = 0;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[o++] = kBase64Alphabet[(v >> 18) & 63];
    out[o++] = kBase64Alphabet[(v >> 12) & 63];
    out[o++] = kBase64Alphabet[(v >> 6) & 63];
    out[o++] = kBase64Alphabet[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (i + 1 < bytes.size()) {
      v |= uint32_t{in[i + 1]} << 8;
    }
    out[o++] = kBase64Alphabet[(v >> 18) & 63];
    out[o++] = kBase64Alphabet[(v >> 12) & 63];
    if (i + 1 < bytes.size()) {
      out[o++] = kBase64Alphabet[(v >> 6) & 63];
    }
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text[text.size() - 2] == '=' ? 2 : 1;
  }
  std::string out(text.size() / 4 * 3 - padding, '\0');
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  size_t o = 0;
  for (size_t i = 0; i < text.size(); i += 4) {
    const uint8_t a = kBase64Values[in[i]];
    const uint8_t b = kBase64Values[in[i + 1]];
    const uint8_t c = kBase64Values[in[i + 2]];
    const uint8_t d = kBase64Values[in[i + 3]];
    const bool last = i + 4 == text.size();
    // '=' (64) may only end the text: "xx==" or "xxx=", and the bits the padding drops must be
    // zero, so every byte string has exactly one encoding (AWS rejects "+/+=").
    if ((a | b) >= 64 || c == 255 || d == 255 || (!last && (c | d) >= 64) ||
        (c == 64 && d != 64) || (c == 64 && (b & 15) != 0) || (c < 64 && d == 64 && (c & 3) != 0)) {
      return std::nullopt;
    }
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c & 63u} << 6) |
                       (d & 63u);
    out[o++] = static_cast<char>(v >> 16);
    if (c != 64) {
      out[o++] = static_cast<char>((v >> 8) & 0xff);
    }
    if (d != 64) {
      out[o++] = static_cast<char>(v & 0xff);
    }
  }
  return out;
}

std::string Md5(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

}  // namespace riffle::broker
