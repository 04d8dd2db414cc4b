// Parsing of `riffle tail --from`, kept apart from main.cc so it can be
// tested without CLI11.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/rfc3339.h"
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

}  // namespace riffle::cli
