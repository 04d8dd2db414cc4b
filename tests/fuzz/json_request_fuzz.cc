// The Kinesis JSON request decoder: JsonDocument::Parse on the body, then every JsonObject getter
// on the members the operations read, so each member is also read as each wrong type (the
// SerializationException paths). Nested objects (PutRecords' Records, StartingPosition) are
// read the same way.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/api/kinesis_http/json.h"

namespace {

using riffle::kinesis_http::JsonDocument;
using riffle::kinesis_http::JsonObject;

// Member names of the Kinesis requests; the seed corpus holds bodies that use them.
constexpr std::string_view kMembers[] = {
    "StreamName",
    "StreamARN",
    "Data",
    "PartitionKey",
    "ExplicitHashKey",
    "Records",
    "ShardId",
    "Limit",
    "Timestamp",
    "ShardIterator",
    "NextToken",
    "Tags",
    "TagKeys",
    "ShardCount",
    "StartingPosition",
    "Type",
    "SequenceNumber",
    "StreamModeDetails",
    "ConsumerName",
    "EnforceConsumerDeletion",
};

void ReadAll(const JsonObject& object, int depth) {
  for (std::string_view name : kMembers) {
    (void)object.String(name);
    (void)object.Integer(name);
    (void)object.Bool(name);
    (void)object.TimestampMillis(name);
    (void)object.Blob(name);
    (void)object.StringMap(name);
    (void)object.StringList(name);
    if (depth == 0) {
      continue;
    }
    if (std::optional<JsonObject> nested = object.Object(name)) {
      ReadAll(*nested, depth - 1);
    }
    if (std::optional<std::vector<JsonObject>> list = object.ObjectList(name)) {
      for (const JsonObject& item : *list) {
        ReadAll(item, depth - 1);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  JsonDocument document;
  if (document.Parse(body).ok()) {
    ReadAll(document.root(), /*depth=*/2);
  }
  return 0;
}
