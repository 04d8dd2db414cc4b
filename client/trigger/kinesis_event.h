// The JSON a Lambda function receives from a Kinesis event source mapping, and the record its
// on-failure destination receives, built from records read through the Riffle client.
#pragma once

#include <span>
#include <string>

#include "riffle/client.h"

namespace riffle::trigger {

// Where a batch comes from, as the event names it.
struct EventSource {
  std::string stream_arn;  // arn:aws:kinesis:<region>:<account>:stream/<name>
  std::string shard_id;
};

// {"Records": [{"kinesis": {kinesisSchemaVersion, partitionKey, sequenceNumber, data (base64),
// approximateArrivalTimestamp (epoch seconds)}, eventSource, eventVersion, eventID
// ("shardId-...:seq"), eventName, invokeIdentityArn, awsRegion, eventSourceARN}, ...]}
std::string KinesisEvent(const EventSource& source, std::span<const client::Record> records);

// Lambda's on-failure record for a Kinesis batch: requestContext (condition
// "RetryAttemptsExhausted" or "RecordAgeExceeded"), responseContext, version, timestamp and
// KinesisBatchInfo (shard, first and last sequence numbers and arrival times, batch size, stream).
struct FailedBatch {
  std::string request_id;
  std::string function_name;  // becomes the functionArn, in the stream's region and account
  std::string condition;
  int invoke_count = 0;
  std::string error;  // the last failure, as the runner reported it
};
std::string FailureRecord(const EventSource& source, std::span<const client::Record> records,
                          const FailedBatch& failure, int64_t now_ms);

}  // namespace riffle::trigger
