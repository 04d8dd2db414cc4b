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

}  // namespace riffle::cli
