// AWS Signature Version 4, as the Kinesis port checks it: the Authorization header form and the
// presigned query form (X-Amz-Signature in the URL). With a credentials file every request is
// verified against its key's secret: the canonical request (method, path, query, the signed
// headers, the SHA-256 of the body), the credential scope, and the time, within 15 minutes of
// the server's clock. Errors carry AWS's codes and messages, so SDKs report them as they
// would against AWS.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/auth/credentials.h"

namespace riffle::auth {

// The parts of an Authorization header: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/
// <service>/aws4_request, SignedHeaders=<a;b>, Signature=<hex>.
struct SignatureFields {
  std::string access_key_id;
  std::string scope_date;  // yyyymmdd
  std::string region;
  std::string service;
  std::string signed_headers;  // as sent: lowercase names joined by ';'
  std::string signature;       // hex
};

// MissingAuthenticationTokenException for an empty header, IncompleteSignatureException with
// AWS's message for one that lacks a part.
StatusOr<SignatureFields> ParseAuthorization(std::string_view authorization);

// One request as it arrived.
struct SignedRequest {
  std::string_view method;
  std::string_view target;  // the path and query string, as on the request line (or :path)
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // names in any case
  std::string_view body;
};

struct Caller {
  std::shared_ptr<const AccessKey> key;
  std::string region;
};

// The key that signed `request`, or why it is refused.
StatusOr<Caller> VerifySigV4(const KeySet& keys, const SignedRequest& request,
                             int64_t now_unix_seconds);

// A signature over `request` with `key`'s secret, dated `amz_date` (yyyymmddThhmmssZ), for
// tests and for clients that sign in-process. `fields` names the scope and signed headers.
std::string ComputeSignature(const SignatureFields& fields, std::string_view secret,
                             std::string_view amz_date, const SignedRequest& request,
                             std::string_view payload_hash);

// Lowercase hex of the SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace riffle::auth
