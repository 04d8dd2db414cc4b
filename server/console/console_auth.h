// Who may use the web console when riffled has a credentials file: the page sends the key the
// user signed in with as `Authorization: Bearer <id>:<secret>` (never a cookie, so no other site
// can make a browser send it), and each API call is authorized like the Kinesis action it
// stands for, on the stream in its path.
#pragma once

#include <memory>

#include "common/status.h"
#include "server/auth/credentials.h"
#include "server/console/console_api.h"

namespace riffle::console {

// The request's key, when it may run the call's action (reads: read; putting a record: write;
// anything else: admin) on the stream in its path. UnrecognizedClientException without a valid
// key; AccessDeniedException when the key may not.
StatusOr<std::shared_ptr<const auth::AccessKey>> AuthorizeConsoleRequest(const auth::KeySet& keys,
                                                                         const ApiRequest& request);

}  // namespace riffle::console
