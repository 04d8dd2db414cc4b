#include "server/api/grpc/calls_in_flight.h"

namespace riffle::grpc_api {

class CallsInFlight::Counter final : public grpc::experimental::Interceptor {
 public:
  explicit Counter(CallsInFlight& calls) : calls_(calls) { calls_.Started(); }
  ~Counter() override { calls_.Finished(); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  CallsInFlight& calls_;
};

class CallsInFlight::CounterFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CounterFactory(CallsInFlight& calls) : calls_(calls) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* /*info*/) override {
    return new Counter(calls_);
  }

 private:
  CallsInFlight& calls_;
};

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallsInFlight::NewCounter() {
  return std::make_unique<CounterFactory>(*this);
}

int CallsInFlight::count() {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

bool CallsInFlight::WaitForNone(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return none_.wait_until(lock, deadline, [this] { return count_ == 0; });
}

void CallsInFlight::Started() {
  std::lock_guard<std::mutex> lock(mu_);
  ++count_;
}

void CallsInFlight::Finished() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--count_ == 0) {
    none_.notify_all();
  }
}

}  // namespace riffle::grpc_api
