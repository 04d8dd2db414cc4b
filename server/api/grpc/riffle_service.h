// The Riffle gRPC service (riffle.v1.Riffle): translates each call to the broker and back. Kept
// behind a factory so that only riffle_service.cc includes the generated *.grpc.pb.h, the most
// expensive header of the build.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "server/broker/broker.h"

namespace grpc {
class Service;
}

namespace riffle::grpc_api {

// Borrows `broker` and `stopping`, which must outlive the service. Thread-safe: gRPC calls it
// from its pool. SubscribeToShard holds its handler thread for as long as the subscription lasts;
// an idle one wakes when records are appended and looks again every `subscription_poll` in any
// case. It ends within 100 ms of the client cancelling or of `stopping` turning true, which the
// server sets before it drains so that open subscriptions do not hold a shutdown up.
std::unique_ptr<grpc::Service> NewRiffleService(broker::Broker& broker,
                                                broker::RequestContext context,
                                                const std::atomic<bool>& stopping,
                                                std::chrono::milliseconds subscription_poll);

}  // namespace riffle::grpc_api
