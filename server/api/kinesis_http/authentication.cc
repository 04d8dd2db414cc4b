#include "server/api/kinesis_http/authentication.h"

#include <algorithm>

namespace riffle::kinesis_http {
namespace {

std::string_view AuthorizationHeader(const auth::SignedRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (name.size() == 13 &&
        std::equal(name.begin(), name.end(), "authorization",
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
      return value;
    }
  }
  return "";
}

}  // namespace

StatusOr<broker::RequestContext> Authenticate(const auth::Credentials* credentials,
                                              const auth::SignedRequest& request,
                                              int64_t now_unix_seconds) {
  broker::RequestContext ctx;
  if (credentials == nullptr) {
    RIFFLE_ASSIGN_OR_RETURN(auth::SignatureFields fields,
                            auth::ParseAuthorization(AuthorizationHeader(request)));
    ctx.region = fields.region;
    if (fields.access_key_id.size() == 12 &&
        fields.access_key_id.find_first_not_of("0123456789") == std::string::npos) {
      ctx.account = fields.access_key_id;
    }
    return ctx;
  }
  RIFFLE_ASSIGN_OR_RETURN(auth::Caller caller,
                          auth::VerifySigV4(*credentials->keys(), request, now_unix_seconds));
  ctx.region = std::move(caller.region);
  ctx.account = caller.key->account;
  ctx.caller = std::move(caller.key);
  return ctx;
}

}  // namespace riffle::kinesis_http
