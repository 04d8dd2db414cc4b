#include "server/auth/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>

#include <fmt/format.h>

namespace riffle::auth {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr int64_t kMaxSkewSeconds = 15 * 60;

constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

std::string Hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int HexValue(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(text[i + 1]) &&
        std::isxdigit(text[i + 2])) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// RFC 3986 encoding as SigV4 wants it: every byte but the unreserved ones (and `keep`) as %XX.
std::string PercentEncode(std::string_view text, std::string_view keep = "") {
  std::string out;
  for (unsigned char c : text) {
    if (IsUnreserved(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> QueryParameters(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < query.size()) {
    const size_t amp = std::min(query.find('&', start), query.size());
    const std::string_view item = query.substr(start, amp - start);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      out.emplace_back(PercentDecode(item.substr(0, eq)),
                       eq == std::string_view::npos ? "" : PercentDecode(item.substr(eq + 1)));
    }
    start = amp + 1;
  }
  return out;
}

std::optional<std::string> QueryValue(std::string_view query, std::string_view name) {
  for (auto& [key, value] : QueryParameters(query)) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

// Sorted, encoded name=value pairs, without the signature itself (the presigned form's).
std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (auto& [key, value] : QueryParameters(query)) {
    if (key != "X-Amz-Signature") {
      encoded.emplace_back(PercentEncode(key), PercentEncode(value));
    }
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [key, value] : encoded) {
    out += (out.empty() ? "" : "&") + key + "=" + value;
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string_view> Header(const SignedRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (EqualsIgnoreCase(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

// A header's value as SigV4 canonicalises it: trimmed, inner runs of spaces made one, and
// repeated headers joined by commas. HTTP/2 carries Host as :authority.
std::string CanonicalHeaderValue(const SignedRequest& request, std::string_view name) {
  std::string joined;
  bool found = false;
  for (const auto& [key, value] : request.headers) {
    if (!EqualsIgnoreCase(key, name) && !(name == "host" && key == ":authority")) {
      continue;
    }
    if (found) {
      joined.push_back(',');
    }
    found = true;
    bool space = false;
    std::string_view trimmed = value;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
      trimmed.remove_prefix(1);
    }
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
      trimmed.remove_suffix(1);
    }
    for (char c : trimmed) {
      if (c == ' ' || c == '\t') {
        space = true;
        continue;
      }
      if (space) {
        joined.push_back(' ');
        space = false;
      }
      joined.push_back(c);
    }
    if (name == "host") {
      break;  // one of Host and :authority
    }
  }
  return joined;
}

std::string CanonicalRequest(const SignatureFields& fields, const SignedRequest& request,
                             std::string_view payload_hash) {
  const size_t question = request.target.find('?');
  const std::string_view path = request.target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? "" : request.target.substr(question + 1);
  std::string canonical_path = PercentEncode(PercentDecode(path.empty() ? "/" : path), "/");
  std::string headers;
  std::string_view names = fields.signed_headers;
  while (!names.empty()) {
    const size_t semi = std::min(names.find(';'), names.size());
    const std::string_view name = names.substr(0, semi);
    headers += fmt::format("{}:{}\n", name, CanonicalHeaderValue(request, name));
    names.remove_prefix(std::min(semi + 1, names.size()));
  }
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, canonical_path,
                     CanonicalQuery(query), headers, fields.signed_headers, payload_hash);
}

// Seconds since the epoch of an ISO 8601 basic time (yyyymmddThhmmssZ).
std::optional<int64_t> ParseAmzDate(std::string_view text) {
  std::tm tm{};
  const std::string copy(text);
  const char* end = ::strptime(copy.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  return static_cast<int64_t>(::timegm(&tm));
}

std::string FormatAmzDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof(out), "%Y%m%dT%H%M%SZ", &tm);
  return out;
}

// The signature fields of the presigned form: X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-SignedHeaders and X-Amz-Signature in the query string.
StatusOr<SignatureFields> ParseQuerySignature(std::string_view query) {
  const auto credential = QueryValue(query, "X-Amz-Credential");
  const auto signed_headers = QueryValue(query, "X-Amz-SignedHeaders");
  const auto signature = QueryValue(query, "X-Amz-Signature");
  if (!credential || !signed_headers || !signature ||
      QueryValue(query, "X-Amz-Algorithm") != std::string(kAlgorithm)) {
    return Status(ErrorCode::kIncompleteSignature,
                  "AWS query-string parameters must include 'X-Amz-Algorithm', "
                  "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', "
                  "'X-Amz-SignedHeaders'. Re-examine the query-string parameters.");
  }
  return ParseAuthorization(fmt::format("{} Credential={}, SignedHeaders={}, Signature={}",
                                        kAlgorithm, *credential, *signed_headers, *signature));
}

}  // namespace

StatusOr<SignatureFields> ParseAuthorization(std::string_view authorization) {
  if (authorization.empty()) {
    return Status(ErrorCode::kMissingAuthenticationToken, "Missing Authentication Token");
  }
  // The words after the scheme, separated by commas and/or spaces, as key=value.
  std::string_view credential, signature, signed_headers;
  std::string_view rest =
      authorization.substr(std::min(authorization.find(' '), authorization.size()));
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(", ");
    if (start == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(start);
    const std::string_view word = rest.substr(0, rest.find_first_of(", "));
    rest.remove_prefix(word.size());
    const size_t eq = word.find('=');
    const std::string_view key = word.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : word.substr(eq + 1);
    if (key == "Credential") {
      credential = value;
    } else if (key == "Signature") {
      signature = value;
    } else if (key == "SignedHeaders") {
      signed_headers = value;
    }
  }
  std::string missing;
  for (auto [name, value] : {std::pair{"Credential", credential},
                             {"Signature", signature},
                             {"SignedHeaders", signed_headers}}) {
    if (value.empty()) {
      missing += fmt::format("Authorization header requires '{}' parameter. ", name);
    }
  }
  if (!missing.empty()) {
    return Status(ErrorCode::kIncompleteSignature,
                  missing + "Authorization=" + std::string(authorization));
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = credential.find('/', start);
    parts.push_back(credential.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  if (parts.size() != 5 || parts[0].empty() || parts[2].empty()) {
    return Status(ErrorCode::kIncompleteSignature,
                  "Credential should be scoped to a valid region: <key>/<date>/<region>/kinesis/"
                  "aws4_request.");
  }
  return SignatureFields{.access_key_id = std::string(parts[0]),
                         .scope_date = std::string(parts[1]),
                         .region = std::string(parts[2]),
                         .service = std::string(parts[3]),
                         .signed_headers = std::string(signed_headers),
                         .signature = std::string(signature)};
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return Hex(digest, sizeof(digest));
}

std::string ComputeSignature(const SignatureFields& fields, std::string_view secret,
                             std::string_view amz_date, const SignedRequest& request,
                             std::string_view payload_hash) {
  const std::string scope =
      fmt::format("{}/{}/{}/aws4_request", fields.scope_date, fields.region, fields.service);
  const std::string string_to_sign =
      fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope,
                  Sha256Hex(CanonicalRequest(fields, request, payload_hash)));
  std::string key = HmacSha256("AWS4" + std::string(secret), fields.scope_date);
  key = HmacSha256(key, fields.region);
  key = HmacSha256(key, fields.service);
  key = HmacSha256(key, "aws4_request");
  const std::string signature = HmacSha256(key, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

StatusOr<Caller> VerifySigV4(const KeySet& keys, const SignedRequest& request,
                             int64_t now_unix_seconds) {
  const size_t question = request.target.find('?');
  const std::string_view query =
      question == std::string_view::npos ? "" : request.target.substr(question + 1);
  const std::optional<std::string_view> authorization = Header(request, "authorization");
  const bool presigned = !authorization && QueryValue(query, "X-Amz-Signature").has_value();
  RIFFLE_ASSIGN_OR_RETURN(SignatureFields fields, presigned
                                                      ? ParseQuerySignature(query)
                                                      : ParseAuthorization(authorization.value_or("")));
  std::optional<std::string> amz_date;
  if (presigned) {
    amz_date = QueryValue(query, "X-Amz-Date");
  } else if (auto header = Header(request, "x-amz-date")) {
    amz_date = std::string(*header);
  }
  if (!amz_date) {
    return Status(ErrorCode::kIncompleteSignature,
                  "Authorization header requires existence of either a 'X-Amz-Date' or a "
                  "'Date' header. Authorization=" + std::string(authorization.value_or("")));
  }
  const std::optional<int64_t> signed_at = ParseAmzDate(*amz_date);
  if (!signed_at) {
    return Status(ErrorCode::kIncompleteSignature,
                  "X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'; got " +
                      *amz_date);
  }
  std::shared_ptr<const AccessKey> key = keys.Find(fields.access_key_id);
  if (key == nullptr) {
    return Status(ErrorCode::kUnrecognizedClient, std::string(kInvalidTokenMessage));
  }
  if (fields.scope_date != amz_date->substr(0, 8)) {
    return Status(ErrorCode::kInvalidSignature,
                  fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                              "version of date from HTTP: '{}' != '{}', from '{}'.",
                              fields.scope_date, amz_date->substr(0, 8), *amz_date));
  }
  if (fields.service != "kinesis") {
    return Status(ErrorCode::kInvalidSignature,
                  "Credential should be scoped to correct service: 'kinesis'. ");
  }
  // The presigned form may sign no payload; the header form always signs the body's hash.
  const std::string body_hash = Sha256Hex(request.body);
  const std::string expected =
      ComputeSignature(fields, key->secret, *amz_date, request, body_hash);
  const bool matches =
      expected.size() == fields.signature.size() &&
      CRYPTO_memcmp(expected.data(), fields.signature.data(), expected.size()) == 0;
  const bool matches_unsigned_payload =
      presigned && !matches &&
      ComputeSignature(fields, key->secret, *amz_date, request, kUnsignedPayload) ==
          fields.signature;
  if (!matches && !matches_unsigned_payload) {
    return Status(ErrorCode::kInvalidSignature, std::string(kSignatureMismatch));
  }
  // The time is judged after the signature, so a forged request learns nothing from it.
  const std::string now = FormatAmzDate(now_unix_seconds);
  if (presigned) {
    const std::optional<std::string> expires = QueryValue(query, "X-Amz-Expires");
    const int64_t lifetime =
        expires && !expires->empty() &&
                expires->find_first_not_of("0123456789") == std::string::npos &&
                expires->size() < 8
            ? std::stoll(*expires)
            : 0;
    if (now_unix_seconds > *signed_at + lifetime) {
      return Status(ErrorCode::kInvalidSignature,
                    fmt::format("Signature expired: {} is now earlier than {}.",
                                FormatAmzDate(*signed_at + lifetime), now));
    }
  } else if (*signed_at < now_unix_seconds - kMaxSkewSeconds) {
    return Status(ErrorCode::kInvalidSignature,
                  fmt::format("Signature expired: {} is now earlier than {} ({} - 15 min.)",
                              *amz_date, FormatAmzDate(now_unix_seconds - kMaxSkewSeconds), now));
  }
  if (*signed_at > now_unix_seconds + kMaxSkewSeconds) {
    return Status(ErrorCode::kInvalidSignature,
                  fmt::format("Signature not yet current: {} is still later than {} ({} + 15 min.)",
                              *amz_date, FormatAmzDate(now_unix_seconds + kMaxSkewSeconds), now));
  }
  return Caller{.key = std::move(key), .region = fields.region};
}

}  // namespace riffle::auth
