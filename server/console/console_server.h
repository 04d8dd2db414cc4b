// The web console's HTTP server (civetweb, as the metrics port): the page at / and its JSON API
// under /api/ (console_api.h), on one origin.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "server/broker/broker.h"
#include "server/console/console_api.h"

namespace riffle::console {

struct ConsoleServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  // Requests served at once. A live tail holds one for up to ConsoleApiOptions::max_tail_wait.
  int threads = 8;
  ConsoleApiOptions api;
};

class ConsoleServer {
 public:
  // Listens on host:port; kServiceUnavailable when the port cannot be bound. Borrows `broker`,
  // which must outlive the server.
  static StatusOr<std::unique_ptr<ConsoleServer>> Start(broker::Broker& broker,
                                                        ConsoleServerOptions options);
  // Ends waiting tails, then stops listening and waits for the requests in flight.
  virtual ~ConsoleServer() = default;
  virtual int port() const = 0;
};

}  // namespace riffle::console
