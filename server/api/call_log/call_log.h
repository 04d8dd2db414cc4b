// What riffled logs about the calls its front ends answer, the same way for the Kinesis HTTP
// API and gRPC:
// - every call answered with a server error (HTTP 500; gRPC INTERNAL, UNKNOWN, DATA_LOSS) at
//   error level, with its message, since such an answer is riffled's fault, not the caller's;
// - one answered "unavailable" (HTTP 503, gRPC UNAVAILABLE: full disk, shutting down, a
//   cluster shard between leaders) at warn level: the caller is told to retry;
// - a call slower than the threshold at warn level (not the streaming ones, which last);
// - with the access log on, every call at info level; otherwise at debug level, so
//   `--log-level debug` shows each call.
#pragma once

#include <chrono>
#include <string_view>

namespace riffle::call_log {

struct CallLogOptions {
  bool access_log = false;
  std::chrono::milliseconds slow_call{1000};  // 0: no slow-call warnings
};

// One answered call.
struct CallRecord {
  std::string_view api;        // "kinesis" or "grpc"
  std::string_view operation;  // "PutRecord", "/riffle.v1.Riffle/PutRecord", ...
  std::string_view peer;       // the client's address
  std::string_view key_id;     // the caller's access key id; empty without one
  std::string_view outcome;    // "ok", or the error code answered
  std::string_view message;    // the error's message; empty on success
  bool server_error = false;   // the answer blames the server
  bool unavailable = false;    // the answer tells the caller to retry later
  bool streaming = false;      // a subscription: its length says nothing about its speed
  std::chrono::steady_clock::duration elapsed{};
};

class CallLog {
 public:
  explicit CallLog(CallLogOptions options) : options_(options) {}
  // Thread-safe: called on the front ends' threads.
  void Record(const CallRecord& call) const;

 private:
  const CallLogOptions options_;
};

}  // namespace riffle::call_log
