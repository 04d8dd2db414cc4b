// The Riffle gRPC service (riffle.v1.Riffle): translates each call to the broker and back. Kept
// behind a factory so that only riffle_service.cc includes the generated *.grpc.pb.h, the most
// expensive header of the build.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "common/clock.h"
#include "server/auth/credentials.h"
#include "server/broker/broker.h"

namespace grpc {
class Service;
}

namespace riffle::grpc_api {

// Borrows `broker`, `clock` and `stopping`, which must outlive the service. Every call runs on
// gRPC's callback API: no thread is parked per call or per subscription. Subscriptions pace
// their heartbeats by `clock`; once `stopping` is true they end with UNAVAILABLE at their next
// step, and `wake_subscriptions` (set here) makes that step happen at once, so that open
// subscriptions do not hold a shutdown up. `credentials` (null: none) must outlive the service;
// with them every call must carry a bearer token of one of their keys (call_auth.h).
std::unique_ptr<grpc::Service> NewRiffleService(broker::Broker& broker,
                                                broker::RequestContext context,
                                                const Clock& clock,
                                                const std::atomic<bool>& stopping,
                                                const auth::Credentials* credentials,
                                                std::function<void()>& wake_subscriptions);

}  // namespace riffle::grpc_api
