// Parsing of `riffle tail --from` and of RFC 3339 times, kept apart from main.cc so it can be
// tested without CLI11.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "riffle/client.h"

namespace riffle::cli {

// "trim-horizon", "latest", "timestamp:<RFC 3339 or ms since the epoch>" or "seq:<n>".
// A malformed spec is a kValidation error that names the accepted forms.
StatusOr<client::IteratorPosition> ParseStartPosition(std::string_view spec);

// Lambda's StartingPosition: "TRIM_HORIZON", "LATEST", or "AT_TIMESTAMP" with an RFC 3339
// `timestamp` (which the others must not have).
StatusOr<client::IteratorPosition> ParseLambdaStartingPosition(std::string_view position,
                                                               std::string_view timestamp);

// "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250+09:00" (fraction optional, 'T' or ' ' between
// date and time, 'Z' or an offset) -> milliseconds since the Unix epoch.
StatusOr<int64_t> ParseRfc3339Millis(std::string_view text);

// Milliseconds since the epoch -> "2024-05-01T03:00:00.250Z".
std::string FormatRfc3339Millis(int64_t millis);

}  // namespace riffle::cli
