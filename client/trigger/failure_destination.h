// Where a batch that exhausted its retries is described: a stream (one record, keyed by the
// shard id) or a file (one JSON line). Thread-safe: the shard workers share one.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "riffle/client.h"

namespace riffle::trigger {

class FailureDestination {
 public:
  virtual ~FailureDestination() = default;
  virtual Status Send(const std::string& shard_id, const std::string& failure_record) = 0;
};

// `spec` is "stream:NAME" or "file:PATH"; "" gives a destination that only drops. Anything else
// is kValidation. Borrows `client`, which must outlive it.
StatusOr<std::unique_ptr<FailureDestination>> NewFailureDestination(const std::string& spec,
                                                                    client::Client& client);

}  // namespace riffle::trigger
