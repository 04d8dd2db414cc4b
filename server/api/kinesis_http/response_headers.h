// Values of the response headers both HTTP versions send with every answer.
#pragma once

#include <string>

namespace riffle::kinesis_http {

// x-amzn-RequestId: a random (version 4) UUID, as AWS sends.
std::string NewRequestId();

// Date: RFC 7231, e.g. "Thu, 26 Nov 2026 23:06:16 GMT".
std::string HttpDate();

}  // namespace riffle::kinesis_http
