// The Kinesis HTTP front end on one port: HTTP/1.1 through Boost.Beast (keep-alive, pipelined
// requests answered in order) and HTTP/2 with prior knowledge (h2c, what the JS and Java SDKs
// speak to an http:// endpoint) through nghttp2, told apart by the client's first bytes. Each
// connection lives on one I/O thread. Writes complete from the commit pipeline, so no thread
// waits for an fsync and a few threads carry any number of concurrent writers; other calls run
// on the I/O thread (they read, or change the catalog, which is rare).
//
// Thread-safe. Borrows the broker, which must outlive the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "server/api/call_log/call_log.h"
#include "server/auth/credentials.h"
#include "server/broker/broker.h"

namespace riffle::kinesis_http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 4567;  // 0 picks a free port
  // Threads that run connections and the broker calls that are not writes.
  int threads = 4;
  // Bodies above this are refused from their Content-Length, before being read. A full 10 MiB
  // PutRecords is ~14 MiB of JSON after base64.
  size_t max_body_bytes = 16 * 1024 * 1024;
  // A connection idle (or stalled mid-request) this long is closed.
  std::chrono::seconds idle_timeout{120};
  // Connections open at once; one more is answered 503 and closed.
  size_t max_connections = 10000;
  // Paces SubscribeToShard (heartbeats, the 5-minute lifetime) and judges signature times;
  // null: the system clock.
  const Clock* clock = nullptr;
  // The keys requests must be signed with; null: any well-formed signature is accepted.
  const auth::Credentials* credentials = nullptr;
  // Web origins whose pages may call this port (CORS); "*" allows every origin. Empty: no
  // browser page may read an answer.
  std::vector<std::string> cors_origins;
  // PEM files: with both, the port speaks TLS only (ALPN h2 and http/1.1).
  std::string tls_cert_file;
  std::string tls_key_file;
  // The access log, slow calls, server errors.
  call_log::CallLogOptions call_log;
};

class HttpServer {
 public:
  static StatusOr<std::unique_ptr<HttpServer>> Start(broker::Broker& broker,
                                                     const HttpServerOptions& options);
  virtual ~HttpServer() = default;
  virtual int port() const = 0;
  // Connections open now, for the metrics.
  virtual size_t open_connections() const = 0;
  // Reads the TLS files again (SIGHUP); new connections use them, open ones keep theirs. On
  // an error the files in force stay. OK and nothing done without TLS.
  virtual Status ReloadTls() = 0;
  // Stops accepting, lets requests in flight finish (up to 5 s), then stops. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace riffle::kinesis_http
