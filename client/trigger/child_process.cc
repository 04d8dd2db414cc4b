#include "client/trigger/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace riffle::trigger {
namespace {

Status Errno(const std::string& what) {
  return Status(ErrorCode::kInternalFailure, what + ": " + std::strerror(errno));
}

}  // namespace

StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                                            ReplyChannel reply) {
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    return Errno("pipe");
  }
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return Errno("pipe");
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  // posix_spawn, not fork: glibc starts the child without copying this process's page tables,
  // which costs tens of ms per batch in a process with gRPC's threads and arenas. The dup2
  // actions clear O_CLOEXEC on the copies, so only these pipes reach the handler.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1],
                                   reply == ReplyChannel::kStdout ? STDOUT_FILENO : 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);  // the runner ignores it; the handler should not
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    errno = spawned;
    for (int fd : {in[0], in[1], out[0], out[1]}) {
      close(fd);
    }
    return Errno("starting " + argv[0]);
  }
  close(in[0]);
  close(out[1]);
  // Non-blocking, so that a handler that stops reading cannot hold a write past its deadline.
  fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, in[1], out[0]));
}

ChildProcess::ChildProcess(pid_t pid, int stdin_fd, int output_fd)
    : pid_(pid), stdin_fd_(stdin_fd), output_fd_(output_fd) {}

ChildProcess::~ChildProcess() {
  Kill();
  Wait();
  CloseStdin();
  close(output_fd_);
}

Status ChildProcess::Write(std::string_view bytes, std::chrono::steady_clock::time_point deadline) {
  while (!bytes.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status(ErrorCode::kServiceUnavailable, "timed out");
    }
    pollfd fd{.fd = stdin_fd_, .events = POLLOUT, .revents = 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) {
      continue;  // EINTR, or the deadline check above ends it
    }
    const ssize_t n = write(stdin_fd_, bytes.data(), bytes.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n <= 0) {
      return Errno("writing to the handler");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

void ChildProcess::CloseStdin() {
  if (stdin_fd_ >= 0) {
    close(stdin_fd_);
    stdin_fd_ = -1;
  }
}

StatusOr<std::string> ChildProcess::ReadLine(std::chrono::steady_clock::time_point deadline) {
  return Read(deadline, /*until_newline=*/true);
}

StatusOr<std::string> ChildProcess::ReadToEnd(std::chrono::steady_clock::time_point deadline) {
  return Read(deadline, /*until_newline=*/false);
}

StatusOr<std::string> ChildProcess::Read(std::chrono::steady_clock::time_point deadline,
                                         bool until_newline) {
  char chunk[65536];
  while (true) {
    if (until_newline) {
      if (size_t end = buffered_.find('\n'); end != std::string::npos) {
        std::string line = buffered_.substr(0, end);
        buffered_.erase(0, end + 1);
        return line;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status(ErrorCode::kServiceUnavailable, "timed out");
    }
    pollfd fd{.fd = output_fd_, .events = POLLIN, .revents = 0};
    const int ready = poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      return Errno("poll");
    }
    if (ready == 0) {
      continue;  // the deadline check above ends it
    }
    const ssize_t n = read(output_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (until_newline) {
        return Status(ErrorCode::kInternalFailure, "the handler process exited");
      }
      return std::move(buffered_);
    }
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

int ChildProcess::Wait() {
  if (reaped_) {
    return exit_code_;
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

void ChildProcess::Kill() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
  }
}

}  // namespace riffle::trigger
