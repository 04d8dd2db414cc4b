#pragma once

#include "common/status.h"

namespace riffle::kinesis_http {

// The HTTP status botocore and the other SDKs expect for each code. Throttling codes stay 400:
// botocore's legacy retry mode retries them only with that status.
int HttpStatusFor(ErrorCode code);

}  // namespace riffle::kinesis_http
