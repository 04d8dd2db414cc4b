// How riffled's log lines look: `--log-format=text` (the default: time, level=..., message) or
// `--log-format=json` (one JSON object per line, for log shippers: time, level, msg).
#pragma once

#include <string>

namespace riffle {

// Sets the format of every spdlog logger; false for a format it does not know.
bool SetLogFormat(const std::string& format);

}  // namespace riffle
