#include "server/api/kinesis_http/cors.h"

#include <algorithm>

namespace riffle::kinesis_http {

std::optional<std::string> AllowedOrigin(const std::vector<std::string>& allowed,
                                         std::string_view origin) {
  if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end()) {
    return "*";
  }
  if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) {
    return std::string(origin);
  }
  return std::nullopt;
}

}  // namespace riffle::kinesis_http
