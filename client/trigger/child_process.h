// A child process with pipes, for the handlers: spawn, write, read with a deadline, kill.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include "common/status.h"

namespace riffle::trigger {

class ChildProcess {
 public:
  // Runs argv[0] (found on PATH) with stdin a pipe from this process; stdout a pipe to it when
  // `capture_stdout`, else inherited; with `reply_fd3`, fd 3 a pipe to it as well (a side channel
  // that leaves the child's stdout free for its own output).
  static StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                       bool capture_stdout, bool reply_fd3);
  ~ChildProcess();  // kills the child if it still runs, and reaps it
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // kServiceUnavailable when the child has not taken it all by `deadline`.
  Status Write(std::string_view bytes, std::chrono::steady_clock::time_point deadline);
  // Closes the child's stdin, so that it sees the end of its input.
  void CloseStdin();
  // Reads the output pipe (stdout, or fd 3 with reply_fd3) until `until_newline` finds a line
  // end, or to its end otherwise. kServiceUnavailable at `deadline`.
  StatusOr<std::string> Read(std::chrono::steady_clock::time_point deadline, bool until_newline);
  // Waits for the exit; the exit code, or 128 + the signal that ended it.
  int Wait();
  void Kill();

 private:
  ChildProcess(pid_t pid, int stdin_fd, int output_fd);
  pid_t pid_;
  int stdin_fd_;
  int output_fd_;
  std::string buffered_;  // read past the last line returned
  bool reaped_ = false;
  int exit_code_ = 0;
};

}  // namespace riffle::trigger
