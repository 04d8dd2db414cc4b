#include "tests/grpc/riffled_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace riffle::testing {
namespace {

constexpr std::chrono::seconds kStartDeadline{30};

// {"kinesis": N, "grpc": M, "metrics": K, "console": L}, complete: riffled may still be
// writing it.
std::optional<std::pair<int, int>> KinesisAndGrpcPorts(const std::string& ports_json) {
  static const std::regex kComplete(
      R"(\{\s*"kinesis"\s*:\s*(\d+)\s*,\s*"grpc"\s*:\s*(\d+)\s*,\s*"metrics"\s*:\s*\d+\s*,)"
      R"(\s*"console"\s*:\s*\d+\s*\})");
  std::smatch match;
  if (!std::regex_search(ports_json, match, kComplete)) {
    return std::nullopt;
  }
  return std::make_pair(std::stoi(match[1].str()), std::stoi(match[2].str()));
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/riffle-grpc-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::abort();  // a test cannot run without its directory
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string FileTail(const std::filesystem::path& path, size_t max_bytes) {
  std::string contents = ReadFile(path);
  return contents.size() > max_bytes ? contents.substr(contents.size() - max_bytes) : contents;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& stdin_path,
            const std::string& stdout_path, const std::string& stderr_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, STDIN_FILENO, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

int WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (done < 0 || std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string RiffledProcess::BinaryPath() {
  if (const char* path = std::getenv("RIFFLED"); path != nullptr && *path != '\0') {
    return path;
  }
  return RIFFLED_PATH;
}

StatusOr<std::unique_ptr<RiffledProcess>> RiffledProcess::Start(
    const std::filesystem::path& data_dir, const std::filesystem::path& log_path,
    const RiffledOptions& options) {
  const std::filesystem::path ports_file = data_dir.string() + ".ports.json";
  std::filesystem::remove(ports_file);
  std::vector<std::string> argv = {BinaryPath(),
                                         "--data-dir",
                                         data_dir.string(),
                                         "--bind",
                                         "127.0.0.1",
                                         "--kinesis-port",
                                         "0",
                                         "--grpc-port",
                                         std::to_string(options.grpc_port),
                                         "--metrics-port",
                                         "0",
                                         "--console-port",
                                         "0",
                                         "--ports-file",
                                         ports_file.string(),
                                         "--fsync=" + options.fsync,
                                         "--shard-quotas=" + options.shard_quotas};
  const pid_t pid = Spawn(argv, "", log_path.string(), log_path.string());
  if (pid < 0) {
    return Status(ErrorCode::kInternalFailure, "cannot start " + BinaryPath());
  }
  const auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<std::pair<int, int>> ports = KinesisAndGrpcPorts(ReadFile(ports_file))) {
      return std::unique_ptr<RiffledProcess>(
          new RiffledProcess(pid, log_path, ports->first, ports->second));
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return Status(ErrorCode::kServiceUnavailable,
                    "riffled exited before it was ready:\n" + FileTail(log_path, 4000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  RiffledProcess stuck(pid, log_path, 0, 0);
  stuck.Kill();
  return Status(ErrorCode::kServiceUnavailable,
                "riffled wrote no ports file within 30 s:\n" + stuck.LogTail());
}

RiffledProcess::~RiffledProcess() {
  if (pid_ > 0) {
    Kill();
  }
}

int RiffledProcess::Terminate(std::chrono::seconds timeout) {
  if (pid_ <= 0) {
    return -1;
  }
  kill(pid_, SIGTERM);
  const int code = WaitForExit(pid_, timeout);
  pid_ = 0;
  return code;
}

void RiffledProcess::Kill() {
  if (pid_ <= 0) {
    return;
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = 0;
}

std::string RiffledProcess::LogTail(size_t max_bytes) const {
  return FileTail(log_path_, max_bytes);
}

}  // namespace riffle::testing
