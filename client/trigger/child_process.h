// A child process with pipes, for the handlers: spawn, write, read with a deadline, kill.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace riffle::trigger {

class ChildProcess {
 public:
  // Where the child answers: its stdout, or fd 3, a side channel that leaves its stdout (then
  // inherited from this process) free for its own output.
  enum class ReplyChannel { kStdout, kFd3 };
  // Runs argv[0] (found on PATH) with stdin a pipe from this process and `reply` a pipe to it.
  static StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                       ReplyChannel reply);
  ~ChildProcess();  // kills the child if it still runs, and reaps it
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // kServiceUnavailable when the child has not taken it all by `deadline`.
  Status Write(std::string_view bytes, std::chrono::steady_clock::time_point deadline);
  // Closes the child's stdin, so that it sees the end of its input.
  void CloseStdin();
  // The next line of the reply pipe, without its line end; kServiceUnavailable at `deadline`,
  // kInternalFailure if the child closes the pipe first.
  StatusOr<std::string> ReadLine(std::chrono::steady_clock::time_point deadline);
  // The reply pipe up to its end (the child exited or closed it); kServiceUnavailable at
  // `deadline`.
  StatusOr<std::string> ReadToEnd(std::chrono::steady_clock::time_point deadline);
  // Waits for the exit; the exit code, or 128 + the signal that ended it.
  int Wait();
  void Kill();

 private:
  ChildProcess(pid_t pid, int stdin_fd, int output_fd);
  StatusOr<std::string> Read(std::chrono::steady_clock::time_point deadline, bool until_newline);
  pid_t pid_;
  int stdin_fd_;
  int output_fd_;
  std::string buffered_;  // read past the last line returned
  bool reaped_ = false;
  int exit_code_ = 0;
};

}  // namespace riffle::trigger
