// The function a trigger calls with each batch: an executable, an HTTP endpoint or a Python
// function. Each gets the Lambda Kinesis event as JSON and answers with the function's response
// as JSON (empty for none). Not thread-safe: each shard worker owns its own Handler.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"

namespace riffle::trigger {

struct Invocation {
  std::string event_json;
  std::string request_id;             // context.aws_request_id
  std::chrono::milliseconds timeout;  // the handler is stopped and the call fails after it
};

class Handler {
 public:
  virtual ~Handler() = default;
  // The response JSON text, or why the call failed (a crash, a timeout, an error the function
  // raised), as a message for the progress lines and the failure records.
  virtual StatusOr<std::string> Invoke(const Invocation& invocation) = 0;
};

// `sh -c command` per batch: the event on stdin, the response on stdout; a non-zero exit fails.
std::unique_ptr<Handler> NewExecHandler(std::string command);
// POST to `url` (http://host[:port]/path); a status outside 2xx fails. nullptr for another URL.
std::unique_ptr<Handler> NewUrlHandler(std::string url);
// FUNCTION(event, context) of FILE.py, in a python3 child kept for the worker's life (started
// again after a crash or a timeout). The function's prints go to this process's stdout.
std::unique_ptr<Handler> NewPythonHandler(std::string file, std::string function,
                                          std::string function_name);

}  // namespace riffle::trigger
