#include "client/trigger/kinesis_event.h"

#include <vector>

#include <fmt/format.h>

#include "client/cli/start_position.h"
#include "client/util/json_line.h"

namespace riffle::trigger {
namespace {

using tools::JsonObject;

// arn:aws:kinesis:<region>:<account>:stream/<name> -> field 3 (region) or 4 (account).
std::string ArnField(const std::string& arn, int field) {
  size_t start = 0;
  for (int i = 0; i < field; ++i) {
    start = arn.find(':', start);
    if (start == std::string::npos) {
      return "";
    }
    ++start;
  }
  return arn.substr(start, arn.find(':', start) - start);
}

}  // namespace

std::string KinesisEvent(const EventSource& source, std::span<const client::Record> records) {
  const std::string region = ArnField(source.stream_arn, 3);
  const std::string identity =
      fmt::format("arn:aws:iam::{}:role/riffle-trigger", ArnField(source.stream_arn, 4));
  std::vector<std::string> items;
  items.reserve(records.size());
  for (const client::Record& record : records) {
    const std::string kinesis =
        JsonObject()
            .AddString("kinesisSchemaVersion", "1.0")
            .AddString("partitionKey", record.partition_key)
            .AddString("sequenceNumber", record.sequence_number)
            .AddString("data", tools::Base64Encode(record.data))
            // Epoch seconds with milliseconds, as Lambda sends it (a double would round).
            .AddRaw("approximateArrivalTimestamp",
                    fmt::format("{}.{:03d}", record.arrival_time_ms / 1000,
                                record.arrival_time_ms % 1000))
            .Build();
    items.push_back(JsonObject()
                        .AddRaw("kinesis", kinesis)
                        .AddString("eventSource", "aws:kinesis")
                        .AddString("eventVersion", "1.0")
                        .AddString("eventID", source.shard_id + ":" + record.sequence_number)
                        .AddString("eventName", "aws:kinesis:record")
                        .AddString("invokeIdentityArn", identity)
                        .AddString("awsRegion", region)
                        .AddString("eventSourceARN", source.stream_arn)
                        .Build());
  }
  return JsonObject().AddRaw("Records", tools::JsonArray(items)).Build();
}

std::string FailureRecord(const EventSource& source, std::span<const client::Record> records,
                          const FailedBatch& failure, int64_t now_ms) {
  const std::string request_context =
      JsonObject()
          .AddString("requestId", failure.request_id)
          .AddString("functionArn",
                     fmt::format("arn:aws:lambda:{}:{}:function:{}", ArnField(source.stream_arn, 3),
                                 ArnField(source.stream_arn, 4), failure.function_name))
          .AddString("condition", failure.condition)
          .AddInt("approximateInvokeCount", failure.invoke_count)
          .Build();
  const std::string response_context = JsonObject()
                                           .AddInt("statusCode", 200)
                                           .AddString("executedVersion", "$LATEST")
                                           .AddString("functionError", "Unhandled")
                                           .AddString("errorMessage", failure.error)
                                           .Build();
  const std::string batch_info =
      JsonObject()
          .AddString("shardId", source.shard_id)
          .AddString("startSequenceNumber", records.front().sequence_number)
          .AddString("endSequenceNumber", records.back().sequence_number)
          .AddString("approximateArrivalOfFirstRecord",
                     FormatRfc3339Millis(records.front().arrival_time_ms))
          .AddString("approximateArrivalOfLastRecord",
                     FormatRfc3339Millis(records.back().arrival_time_ms))
          .AddInt("batchSize", static_cast<int64_t>(records.size()))
          .AddString("streamArn", source.stream_arn)
          .Build();
  return JsonObject()
      .AddRaw("requestContext", request_context)
      .AddRaw("responseContext", response_context)
      .AddString("version", "1.0")
      .AddString("timestamp", FormatRfc3339Millis(now_ms))
      .AddRaw("KinesisBatchInfo", batch_info)
      .Build();
}

}  // namespace riffle::trigger
