// Runs the real riffled binary for integration tests: a child process with ports 0 and a
// --ports-file, so tests never collide on ports and can run in parallel.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace riffle::testing {

struct RiffledOptions {
  std::string fsync = "always";      // always | interval | never
  std::string shard_quotas = "off";  // on | off
  int grpc_port = 0;                 // 0: any free port
};

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One riffled process. Not thread-safe; the destructor kills it if it still runs.
class RiffledProcess {
 public:
  // The binary: $RIFFLED if set, else the RIFFLED_PATH the tests were built with.
  static std::string BinaryPath();

  // Starts riffled on `data_dir` (its log goes to `log_path`) and waits up to 30 s for the ports
  // file. Fails with the log's tail if riffled exits or never gets ready.
  static StatusOr<std::unique_ptr<RiffledProcess>> Start(const std::filesystem::path& data_dir,
                                                         const std::filesystem::path& log_path,
                                                         const RiffledOptions& options);
  ~RiffledProcess();
  RiffledProcess(const RiffledProcess&) = delete;
  RiffledProcess& operator=(const RiffledProcess&) = delete;

  int kinesis_port() const { return kinesis_port_; }
  int grpc_port() const { return grpc_port_; }
  std::string grpc_endpoint() const { return "127.0.0.1:" + std::to_string(grpc_port_); }

  // SIGTERM, then waits up to `timeout` for the exit. Returns the exit code, 128 + signal if a
  // signal ended it, or -1 if it was still running (it is then killed).
  int Terminate(std::chrono::seconds timeout = std::chrono::seconds(20));
  // SIGKILL, as a crash would, and reaps the process.
  void Kill();
  // The last `max_bytes` of riffled's stdout and stderr, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  RiffledProcess(pid_t pid, std::filesystem::path log_path, int kinesis_port, int grpc_port)
      : pid_(pid),
        log_path_(std::move(log_path)),
        kinesis_port_(kinesis_port),
        grpc_port_(grpc_port) {}

  pid_t pid_;  // 0 once reaped
  std::filesystem::path log_path_;
  int kinesis_port_;
  int grpc_port_;
};

// Starts `argv` with stdin from `stdin_path` (or /dev/null when empty) and stdout and stderr to
// files. Returns the pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& stdin_path,
            const std::string& stdout_path, const std::string& stderr_path);
// Waits up to `timeout` for `pid`; the exit code, 128 + signal, or -1 on timeout (then killed).
int WaitForExit(pid_t pid, std::chrono::milliseconds timeout);
std::string ReadFile(const std::filesystem::path& path);
// The last `max_bytes` of a file.
std::string FileTail(const std::filesystem::path& path, size_t max_bytes);

}  // namespace riffle::testing
