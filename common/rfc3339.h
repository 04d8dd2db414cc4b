// RFC 3339 times, as people type them and read them: the riffle CLI's --from and listings, the
// web console's record browser.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace riffle {

// "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250+09:00" (fraction optional, 'T' or ' ' between
// date and time, 'Z' or an offset) -> milliseconds since the Unix epoch.
StatusOr<int64_t> ParseRfc3339Millis(std::string_view text);

// Milliseconds since the epoch -> "2024-05-01T03:00:00.250Z".
std::string FormatRfc3339Millis(int64_t millis);

}  // namespace riffle
