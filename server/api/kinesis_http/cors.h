// Which web pages may read the Kinesis port's answers (CORS). None by default: a page a
// developer opens must not be able to call a riffled on their machine. --cors-origins lists the
// origins that may, or "*" for any.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace riffle::kinesis_http {

// The Access-Control-Allow-Origin value for a request from `origin`: the origin itself when
// `allowed` lists it, "*" when `allowed` holds "*", nullopt when it may not.
std::optional<std::string> AllowedOrigin(const std::vector<std::string>& allowed,
                                         std::string_view origin);

}  // namespace riffle::kinesis_http
