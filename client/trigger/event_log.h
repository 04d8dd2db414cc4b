// Where a trigger reports what happens on stderr: a shard leased, lost or handed over, a failed
// call, and the progress every few seconds. Text lines starting "riffle trigger: ", or with
// `json` one object per line, so a script reading --json output never meets other lines.
// Thread-safe: the runner and every shard worker write to one EventLog, a line at a time.
#pragma once

#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

namespace riffle::trigger {

class EventLog {
 public:
  // Borrows `out`, which must outlive it.
  EventLog(std::ostream& out, bool json) : out_(out), json_(json) {}

  bool json() const { return json_; }
  // Something about one shard (empty `shard_id`: about the runner): {"shard_id", "message"}.
  void Note(std::string_view shard_id, std::string_view message);
  // A progress line: `json_line` (a JSON object) with --json, else `text`.
  void Progress(const std::string& json_line, const std::string& text);

 private:
  void Write(const std::string& line);

  std::ostream& out_;
  const bool json_;
  std::mutex mu_;  // one line at a time
};

}  // namespace riffle::trigger
