// `--exec 'COMMAND'`: one `sh -c COMMAND` per batch, as a CGI script is run per request. Simple
// to write in any language; the price is a process start per batch.
#include <fmt/format.h>

#include "client/trigger/child_process.h"
#include "client/trigger/handler.h"

namespace riffle::trigger {
namespace {

class ExecHandler final : public Handler {
 public:
  explicit ExecHandler(std::string command) : command_(std::move(command)) {}

  StatusOr<std::string> Invoke(const Invocation& invocation) override {
    const auto deadline = std::chrono::steady_clock::now() + invocation.timeout;
    RIFFLE_ASSIGN_OR_RETURN(
        std::unique_ptr<ChildProcess> child,
        ChildProcess::Spawn({"/bin/sh", "-c", command_}, ChildProcess::ReplyChannel::kStdout));
    // A handler that exits without reading all of its input (`true`) is judged by its exit code
    // and output like any other; one that stops reading and hangs times out below.
    child->Write(invocation.event_json, deadline).IgnoreError();
    child->CloseStdin();
    StatusOr<std::string> output = child->ReadToEnd(deadline);
    if (!output.ok()) {
      child->Kill();
      return Status(
          ErrorCode::kInternalFailure,
          fmt::format("handler timed out after {} ms and was killed", invocation.timeout.count()));
    }
    if (const int exit_code = child->Wait(); exit_code != 0) {
      return Status(ErrorCode::kInternalFailure,
                    fmt::format("handler exited with status {}", exit_code));
    }
    return output;
  }

 private:
  const std::string command_;
};

}  // namespace

std::unique_ptr<Handler> NewExecHandler(std::string command) {
  return std::make_unique<ExecHandler>(std::move(command));
}

}  // namespace riffle::trigger
