#include "server/api/call_log/call_log.h"

#include <spdlog/spdlog.h>

namespace riffle::call_log {

void CallLog::Record(const CallRecord& call) const {
  const double ms = std::chrono::duration<double, std::milli>(call.elapsed).count();
  const std::string_view key = call.key_id.empty() ? "-" : call.key_id;
  if (call.server_error) {
    spdlog::error("{} {} from {} (key {}) failed after {:.1f} ms: {}: {}", call.api, call.operation,
                  call.peer, key, ms, call.outcome, call.message);
  } else if (call.unavailable) {
    spdlog::warn("{} {} from {} (key {}) answered {} after {:.1f} ms: {}", call.api, call.operation,
                 call.peer, key, call.outcome, ms, call.message);
  } else if (!call.streaming && options_.slow_call.count() > 0 &&
             call.elapsed >= options_.slow_call) {
    spdlog::warn("slow call: {} {} from {} (key {}) took {:.1f} ms, answered {}", call.api,
                 call.operation, call.peer, key, ms, call.outcome);
  }
  const spdlog::level::level_enum level =
      options_.access_log ? spdlog::level::info : spdlog::level::debug;
  if (spdlog::should_log(level)) {
    spdlog::log(level, "access api={} op={} peer={} key={} outcome={} ms={:.1f}", call.api,
                call.operation, call.peer, key, call.outcome, ms);
  }
}

}  // namespace riffle::call_log
