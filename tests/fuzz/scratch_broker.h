// A real broker on a scratch store for the fuzz targets that drive requests through a front end
// into the broker (http_request_fuzz, grpc_request_fuzz). There is no credentials file, so every
// operation is reached; a small shard limit keeps a fuzzed CreateStream cheap, and nothing is
// throttled.
#pragma once

#include "server/broker/broker.h"

namespace riffle::fuzz {

// The broker for the current input. The store behind it is made again every so many inputs, so
// that the records fuzzed puts leave do not fill the disk in a long run; call it once per input.
broker::Broker& ScratchBrokerForInput();

}  // namespace riffle::fuzz
