// `--python FILE.py:FUNCTION`: the function runs in a long-lived python3 child started with the
// bundled wrapper below, which imports the file once and then answers one JSON line per event.
// Requests go to the child's stdin and replies come back on fd 3, so the function's own prints
// stay on stdout, where a Lambda function's prints would reach its log.
#include <fmt/format.h>

#include "client/trigger/child_process.h"
#include "client/trigger/handler.h"

namespace riffle::trigger {
namespace {

// argv: FILE FUNCTION FUNCTION_NAME. Each request line: {"event": ..., "request_id": ...,
// "timeout_ms": ...}; each reply line: "ok " + the response as JSON, or "error " + the error the
// function raised, as Lambda's "Type: message". base64 and json are imported into the handler's
// module before it runs: Lambda examples (the seed's among them) use them without importing them.
constexpr char kWrapper[] = R"PY(
import base64, importlib.util, json, os, sys, time, traceback

path, function, function_name = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
spec = importlib.util.spec_from_file_location(
    os.path.splitext(os.path.basename(path))[0], path)
module = importlib.util.module_from_spec(spec)
module.base64 = base64
module.json = json
spec.loader.exec_module(module)
handler = getattr(module, function)
replies = os.fdopen(3, "w")


class Context:
    def __init__(self, request_id, timeout_ms):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            "arn:aws:lambda:us-east-1:000000000000:function:" + function_name)
        self.memory_limit_in_mb = "128"
        self.aws_request_id = request_id
        self.log_group_name = "/aws/lambda/" + function_name
        self.log_stream_name = "riffle-trigger"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_ms / 1000.0

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


for line in sys.stdin:
    request = json.loads(line)
    try:
        result = handler(request["event"],
                         Context(request["request_id"], request["timeout_ms"]))
        reply = "ok " + json.dumps(result)
    except Exception as error:
        traceback.print_exc()
        reply = "error %s: %s" % (type(error).__name__, error)
    sys.stdout.flush()
    sys.stderr.flush()
    replies.write(reply.replace("\n", " ") + "\n")
    replies.flush()
)PY";

class PythonHandler final : public Handler {
 public:
  PythonHandler(std::string file, std::string function, std::string function_name)
      : file_(std::move(file)),
        function_(std::move(function)),
        function_name_(std::move(function_name)) {}

  StatusOr<std::string> Invoke(const Invocation& invocation) override {
    const auto deadline = std::chrono::steady_clock::now() + invocation.timeout;
    if (child_ == nullptr) {
      RIFFLE_ASSIGN_OR_RETURN(child_, ChildProcess::Spawn({"python3", "-u", "-c", kWrapper, file_,
                                                           function_, function_name_},
                                                          ChildProcess::ReplyChannel::kFd3));
    }
    const std::string request =
        fmt::format(R"({{"event":{},"request_id":"{}","timeout_ms":{}}})", invocation.event_json,
                    invocation.request_id, invocation.timeout.count()) +
        "\n";
    Status written = child_->Write(request, deadline);
    StatusOr<std::string> reply = written.ok() ? child_->ReadLine(deadline) : written;
    if (!reply.ok()) {
      // Crashed (an import error, a sys.exit) or hung: the next batch gets a fresh interpreter.
      const bool timed_out = reply.status().code() == ErrorCode::kServiceUnavailable;
      child_.reset();
      return Status(ErrorCode::kInternalFailure,
                    timed_out ? fmt::format("handler timed out after {} ms and was killed",
                                            invocation.timeout.count())
                              : "the python handler process exited; see its output above");
    }
    if (reply->starts_with("ok ")) {
      return reply->substr(3);
    }
    return Status(ErrorCode::kInternalFailure,
                  reply->starts_with("error ") ? reply->substr(6) : *reply);
  }

 private:
  const std::string file_;
  const std::string function_;
  const std::string function_name_;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace

std::unique_ptr<Handler> NewPythonHandler(std::string file, std::string function,
                                          std::string function_name) {
  return std::make_unique<PythonHandler>(std::move(file), std::move(function),
                                         std::move(function_name));
}

}  // namespace riffle::trigger
