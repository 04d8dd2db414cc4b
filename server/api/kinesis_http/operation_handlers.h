// The Kinesis operations that Dispatch (operations.cc) serves, one file per concern:
// stream_operations.cc (create, delete, describe, list, settings, resharding),
// record_operations.cc (writes, iterators, reads, subscription events) and
// consumer_operations.cc. Each decodes the JSON body into broker types, calls the broker and
// encodes the result. Internal to kinesis_http.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "server/api/kinesis_http/json.h"
#include "server/api/kinesis_http/operations.h"
#include "server/broker/broker.h"

namespace riffle::kinesis_http {

// One operation: decode, call, encode. Returns the body or the broker's error.
using Handler = std::function<StatusOr<std::string>(broker::Broker&, const broker::RequestContext&,
                                                    JsonObject&, const Status& decode_error)>;

// Calls the broker only when decoding met no type error.
#define RIFFLE_DECODED(decode_error) \
  do {                               \
    if (!(decode_error).ok()) {      \
      return (decode_error);         \
    }                                \
  } while (false)

using HandlerMap = std::unordered_map<std::string_view, Handler>;

// The writes complete from the commit pipeline: decoding happens here, on the connection's
// thread; the result is handed back to that thread (`executor`) before it is encoded, so the
// committer never spends time on JSON.
using Respond = std::function<void(StatusOr<std::string>)>;
using AsyncHandler = std::function<void(broker::Broker&, const broker::RequestContext&, JsonObject&,
                                        const Status& decode_error, const Executor&, Respond)>;

// Add their operations to `handlers`, by the name after "Kinesis_20131202.".
void AddStreamOperations(HandlerMap& handlers);
void AddRecordOperations(HandlerMap& handlers);
void AddConsumerOperations(HandlerMap& handlers);
// PutRecord and PutRecords (record_operations.cc).
const std::unordered_map<std::string_view, AsyncHandler>& AsyncHandlers();

// Shared by the operations of several concerns.
inline broker::StreamRef ReadStreamRef(const JsonObject& in) {
  return broker::StreamRef{in.String("StreamName"), in.String("StreamARN")};
}

inline void WriteHashKeyRange(JsonWriter& out, const broker::HashKeyRange& range) {
  out.Key("HashKeyRange")
      .BeginObject()
      .Member("StartingHashKey", range.starting_hash_key)
      .Member("EndingHashKey", range.ending_hash_key)
      .EndObject();
}

inline std::string Empty() {
  return std::string();
}

}  // namespace riffle::kinesis_http
