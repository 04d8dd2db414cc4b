// How a handler's answer judges a batch: all records done, none, or (with
// ReportBatchItemFailures) the records before the first failed one.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "common/status.h"
#include "riffle/client.h"

namespace riffle::trigger {

struct BatchOutcome {
  // Records done, from the batch's start: all of them on success, fewer on a failure.
  size_t done = 0;
  std::string error;  // why the rest failed; empty when all are done
};

// `response` is the handler's JSON answer, or why the call failed. Output that is not JSON fails
// the whole batch, quoting its first bytes. With `report_batch_item_failures`, a
// {"batchItemFailures": [{"itemIdentifier": seq}, ...]} answer marks the batch done up to the
// first failed record; an identifier that is empty or not in the batch fails it all, as in Lambda.
BatchOutcome JudgeResponse(const StatusOr<std::string>& response,
                           std::span<const client::Record> batch, bool report_batch_item_failures);

}  // namespace riffle::trigger
