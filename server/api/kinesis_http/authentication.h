// Who sent a Kinesis request. Without a credentials file any complete SigV4 Authorization
// header is accepted (as by local Kinesis emulators) and only names the region, and the
// account when the access key is 12 digits. With one, the signature is verified against the
// key's secret (server/auth/sigv4.h) and the key's account is the caller's.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "server/auth/credentials.h"
#include "server/auth/sigv4.h"
#include "server/broker/types.h"

namespace riffle::kinesis_http {

// `credentials` null: no credentials file.
StatusOr<broker::RequestContext> Authenticate(const auth::Credentials* credentials,
                                              const auth::SignedRequest& request,
                                              int64_t now_unix_seconds);

}  // namespace riffle::kinesis_http
