// The Riffle gRPC service (riffle.v1.Riffle): translates each call to the broker and back. Kept
// behind a factory so that only riffle_service.cc includes the generated *.grpc.pb.h, the most
// expensive header of the build.
#pragma once

#include <memory>

#include "server/broker/broker.h"

namespace grpc {
class Service;
}

namespace riffle::grpc_api {

// Borrows `broker`, which must outlive the service. Thread-safe: gRPC calls it from its pool.
std::unique_ptr<grpc::Service> NewRiffleService(broker::Broker& broker,
                                                broker::RequestContext context);

}  // namespace riffle::grpc_api
