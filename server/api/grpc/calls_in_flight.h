// Counts the gRPC calls that have started and not yet finished, so that a shutdown can wait for
// exactly those. grpc::Server::Shutdown(deadline) cannot tell a call in flight from an idle
// client connection: any connected client that is not sending anything holds it until the
// deadline. Waiting here first, then shutting down with a short deadline, makes a restart as
// quick as its slowest call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include <grpcpp/support/server_interceptor.h>

namespace riffle::grpc_api {

class CallsInFlight {
 public:
  // One interceptor per call, alive from the call's start until gRPC has finished with it.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewCounter();

  // How many are in flight now, for the metrics.
  int count();
  // Waits until no call is in flight or `deadline` passes; true if none is.
  bool WaitForNone(std::chrono::steady_clock::time_point deadline);

 private:
  class Counter;
  class CounterFactory;

  void Started();
  void Finished();

  std::mutex mu_;
  std::condition_variable none_;
  int count_ = 0;  // guarded by mu_
};

}  // namespace riffle::grpc_api
