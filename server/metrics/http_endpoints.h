// The metrics port's HTTP server (civetweb): GET /metrics (the Prometheus exposition text),
// GET /healthz (200 while the process serves HTTP at all: a liveness probe) and GET /readyz
// (200 once riffled takes requests, 503 with the reason otherwise: a readiness probe).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace riffle::metrics {

class HttpEndpoints {
 public:
  // Listens on host:port (0: a free port). `render` gives the /metrics text; `ready` decides
  // /readyz. Both are called on civetweb's threads, concurrently.
  static StatusOr<std::unique_ptr<HttpEndpoints>> Start(const std::string& host, int port,
                                                        std::function<std::string()> render,
                                                        std::function<Status()> ready);
  virtual ~HttpEndpoints() = default;
  virtual int port() const = 0;
};

}  // namespace riffle::metrics
