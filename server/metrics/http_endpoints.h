// The metrics port's HTTP server: GET /metrics (the Prometheus exposition text), GET /healthz
// (200 while the process serves HTTP at all: a liveness probe) and GET /readyz (200 once riffled
// takes requests, 503 with the reason otherwise: a readiness probe). HTTPS with --tls-cert and
// --tls-key, as the other ports.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/auth/tls_files.h"

namespace riffle::metrics {

class HttpEndpoints {
 public:
  // Listens on host:port (0: a free port), with TLS when `tls` names a certificate. `render`
  // gives the /metrics text; `ready` decides /readyz. Both are called on the server's thread.
  static StatusOr<std::unique_ptr<HttpEndpoints>> Start(const std::string& host, int port,
                                                        auth::TlsFiles tls,
                                                        std::function<std::string()> render,
                                                        std::function<Status()> ready);
  virtual ~HttpEndpoints() = default;
  virtual int port() const = 0;
  // Reads the TLS files again (SIGHUP); new connections use them, open ones keep theirs. On an
  // error the certificate in force stays.
  virtual Status ReloadTls() = 0;
};

}  // namespace riffle::metrics
