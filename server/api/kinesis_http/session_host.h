// What a connection (Http1Session, Http2Session) needs from the server that accepted it. The
// server (server.cc) implements it and outlives every connection it accepted: Shutdown() stops
// the worker threads that run them.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include "common/clock.h"
#include "server/api/kinesis_http/operations.h"
#include "server/api/kinesis_http/server.h"
#include "server/auth/sigv4.h"
#include "server/broker/broker.h"

namespace riffle::kinesis_http {

class SessionHost {
 public:
  virtual ~SessionHost() = default;

  virtual broker::Broker& broker() = 0;
  virtual const HttpServerOptions& options() const = 0;
  virtual const Clock& clock() const = 0;
  // Shutdown() has begun: finish the current answer, then close.
  virtual bool stopping() const = 0;

  // Who sent `request` (authentication.h), by this server's credentials and clock.
  virtual StatusOr<broker::RequestContext> Authenticate(
      const auth::SignedRequest& request) const = 0;
  // One request from `peer` (the client's address), whichever HTTP version carried it; counted
  // until it is answered, so Shutdown() can let it finish, and logged (call_log.h). `done` runs
  // on `executor`'s thread.
  virtual void Handle(const StatusOr<broker::RequestContext>& caller, std::string_view peer,
                      std::string_view target, std::string_view content_type, std::string& body,
                      const Executor& executor, std::function<void(Reply)> done) = 0;
};

// Runs closures on a connection's own thread.
inline Executor PostTo(const boost::asio::any_io_executor& executor) {
  return [executor](std::function<void()> f) { boost::asio::post(executor, std::move(f)); };
}

}  // namespace riffle::kinesis_http
