// The options of `riffle trigger`, under the names and with the defaults of a Lambda event source
// mapping for Kinesis where one exists (docs/triggers.md lists the differences).
#pragma once

#include <chrono>
#include <string>

#include "riffle/client.h"

namespace riffle::trigger {

struct TriggerOptions {
  std::string stream;
  std::string group;
  // Which handler: exactly one of these is set.
  std::string python;  // FILE.py:FUNCTION
  std::string exec;    // a shell command
  std::string url;     // http://host:port/path
  // Records per invocation, 1-10000 (Lambda: BatchSize).
  int batch_size = 100;
  // How long to gather records before invoking with fewer than batch_size (Lambda:
  // MaximumBatchingWindowInSeconds, 0-300).
  std::chrono::milliseconds max_batching_window{0};
  // Where the group starts when this runner creates it (Lambda: StartingPosition).
  client::IteratorPosition starting_position = client::IteratorPosition::Latest();
  // Retries of a failed batch before it goes to on_failure; -1: until it succeeds (Lambda:
  // MaximumRetryAttempts, -1-10000).
  int maximum_retry_attempts = -1;
  // A failed batch whose first record is older than this goes to on_failure; -1: no limit
  // (Lambda: MaximumRecordAgeInSeconds, -1 or 60-604800).
  std::chrono::seconds maximum_record_age{-1};
  // On a failure, split the batch in two and retry each half (Lambda:
  // BisectBatchOnFunctionError).
  bool bisect_batch_on_function_error = false;
  // Honour {"batchItemFailures": [...]} answers (Lambda: FunctionResponseTypes
  // ReportBatchItemFailures).
  bool report_batch_item_failures = false;
  // Batches of one shard delivered at once, 1-10; records of one partition key stay in order
  // (Lambda: ParallelizationFactor).
  int parallelization_factor = 1;
  // A consumer of the stream (name; registered if it does not exist) whose SubscribeToShard
  // pushes the records; empty: GetRecords polls (Lambda: an event source mapping on a
  // consumer ARN, for enhanced fan-out).
  std::string consumer;
  // "" (none), "stream:NAME" or "file:PATH": where a batch that exhausted its retries is
  // described (Lambda: DestinationConfig.OnFailure).
  std::string on_failure;
  // A handler still running after this is stopped and the invocation fails (Lambda: the
  // function's Timeout).
  std::chrono::milliseconds function_timeout{30000};
  // How long a shard stays with this runner without a renewal; a dead runner's shards move to
  // the others after it.
  std::chrono::milliseconds lease_duration{10000};
  // How often progress is reported on stderr.
  std::chrono::milliseconds progress_interval{5000};
};

}  // namespace riffle::trigger
