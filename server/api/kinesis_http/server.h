// The Kinesis HTTP front end on one port: HTTP/1.1 through Boost.Beast (keep-alive, pipelined
// requests answered in order) and HTTP/2 with prior knowledge (h2c, what the JS and Java SDKs
// speak to an http:// endpoint) through nghttp2, told apart by the client's first bytes. Each request runs on one of the I/O threads, which block in the broker
// (an fsync included): with many threads, concurrent writers share one group-commit fsync.
//
// Thread-safe. Borrows the broker, which must outlive the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/broker/broker.h"

namespace riffle::kinesis_http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 4567;  // 0 picks a free port
  // Threads that run connections and broker calls; each blocks for the length of one call.
  int threads = 32;
  // Bodies above this are refused from their Content-Length, before being read. A full 10 MiB
  // PutRecords is ~14 MiB of JSON after base64.
  size_t max_body_bytes = 16 * 1024 * 1024;
  // A connection idle (or stalled mid-request) this long is closed.
  std::chrono::seconds idle_timeout{120};
  // A SubscribeToShard stream with nothing to send wakes when records are appended; it also
  // looks again after this long (for heartbeats, a shard's end, and an append it missed).
  std::chrono::milliseconds subscription_poll{50};
};

class HttpServer {
 public:
  static StatusOr<std::unique_ptr<HttpServer>> Start(broker::Broker& broker,
                                                     const HttpServerOptions& options);
  virtual ~HttpServer() = default;
  virtual int port() const = 0;
  // Stops accepting, lets requests in flight finish (up to 5 s), then stops. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace riffle::kinesis_http
