// `riffle trigger`: runs a handler on every batch of a stream's records, as a Lambda event source
// mapping does, with the checkpoints and leases of a consumer group kept by riffled. Several
// runners with the same group share the shards; one that dies loses its shards to the others
// once its leases expire.
#pragma once

#include <atomic>

#include "client/cli/commands.h"
#include "client/trigger/trigger_options.h"
#include "common/status.h"
#include "riffle/client.h"

namespace riffle::trigger {

// Creates the group if it does not exist (at options.starting_position), then leases shards and
// runs a worker per leased shard until `stop`; then each worker finishes its batch in flight,
// checkpoints and releases its lease. Progress goes to output.err every
// options.progress_interval, as text or (json) one object per line.
Status RunTrigger(client::Client& client, const cli::Output& output, const TriggerOptions& options,
                  const std::atomic<bool>& stop);

}  // namespace riffle::trigger
