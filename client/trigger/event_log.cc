#include "client/trigger/event_log.h"

#include "client/util/json_line.h"

namespace riffle::trigger {

void EventLog::Note(std::string_view shard_id, std::string_view message) {
  if (json_) {
    Write(
        tools::JsonObject().AddString("shard_id", shard_id).AddString("message", message).Build());
  } else {
    Write("riffle trigger: " + (shard_id.empty() ? "" : std::string(shard_id) + ": ") +
          std::string(message));
  }
}

void EventLog::Progress(const std::string& json_line, const std::string& text) {
  Write(json_ ? json_line : "riffle trigger: " + text);
}

void EventLog::Write(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  out_ << line << "\n";
  out_.flush();
}

}  // namespace riffle::trigger
