#include "server/console/console_api.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <queue>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "common/rfc3339.h"
#include "server/broker/tokens.h"
#include "server/console/read_cursor.h"

namespace riffle::console {
namespace {

using broker::StreamRef;

// A page of the record browser holds at most this many records: enough to scan by eye, few
// enough that the page renders them at once.
constexpr int64_t kDefaultReadLimit = 100;
constexpr int64_t kMaxReadLimit = 1000;
// Record data beyond this many bytes is cut from a page (the full record is one download away),
// so a page of 1 MiB records stays small.
constexpr int64_t kDefaultPreviewBytes = 4096;
constexpr int64_t kMaxPreviewBytes = 1024 * 1024;

// The console speaks REST: a missing stream is a 404, a conflict a 409, throttling a 429.
// No default: -Wswitch names any code added later and left unmapped.
int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kResourceNotFound:
      return 404;
    case ErrorCode::kResourceInUse:
      return 409;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kValidation:
    case ErrorCode::kExpiredIterator:
    case ErrorCode::kExpiredNextToken:
    case ErrorCode::kSerialization:
    case ErrorCode::kUnknownOperation:
      return 400;
    case ErrorCode::kMissingAuthenticationToken:
    case ErrorCode::kIncompleteSignature:
    case ErrorCode::kUnrecognizedClient:
    case ErrorCode::kInvalidSignature:
      return 401;
    case ErrorCode::kAccessDenied:
      return 403;
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kProvisionedThroughputExceeded:
      return 429;
    case ErrorCode::kServiceUnavailable:
      return 503;
    case ErrorCode::kInternalFailure:
    case ErrorCode::kOk:
      break;
  }
  return 500;
}

ApiResponse JsonResponse(int status, JsonWriter& json) {
  ApiResponse response;
  response.status = status;
  response.body = json.Take();
  return response;
}

ApiResponse ErrorResponse(const Status& status) {
  JsonWriter json;
  json.BeginObject()
      .Key("error")
      .String(KinesisName(status.code()))
      .Key("message")
      .String(status.message())
      .EndObject();
  return JsonResponse(HttpStatusFor(status.code()), json);
}

// The first of several checks that failed, or OK.
Status FirstError(std::initializer_list<Status> statuses) {
  for (const Status& status : statuses) {
    if (!status.ok()) {
      return status;
    }
  }
  return Status();
}

ApiResponse EmptyObject(int status) {
  JsonWriter json;
  json.BeginObject().EndObject();
  return JsonResponse(status, json);
}

// The members of a request body. Each accessor is nullopt when the member is absent and an
// error when it has the wrong type, in the words of the member's name.
class JsonBody {
 public:
  static StatusOr<JsonBody> Parse(const std::string& text) {
    JsonBody body;
    body.parser_ = std::make_unique<simdjson::dom::parser>();
    if (body.parser_->parse(text).get(body.object_) != simdjson::SUCCESS) {
      return Status(ErrorCode::kSerialization, "The request body is not a JSON object.");
    }
    return body;
  }

  StatusOr<std::optional<std::string>> String(const char* key) const {
    simdjson::dom::element value;
    if (object_[key].get(value) != simdjson::SUCCESS || value.is_null()) {
      return std::optional<std::string>();
    }
    std::string_view text;
    if (value.get(text) != simdjson::SUCCESS) {
      return WrongType(key, "a string");
    }
    return std::optional<std::string>(text);
  }

  StatusOr<std::optional<int64_t>> Int(const char* key) const {
    simdjson::dom::element value;
    if (object_[key].get(value) != simdjson::SUCCESS || value.is_null()) {
      return std::optional<int64_t>();
    }
    int64_t number = 0;
    if (value.get(number) != simdjson::SUCCESS) {
      return WrongType(key, "an integer");
    }
    return std::optional<int64_t>(number);
  }

  StatusOr<std::map<std::string, std::string>> StringMap(const char* key) const {
    std::map<std::string, std::string> out;
    simdjson::dom::element value;
    if (object_[key].get(value) != simdjson::SUCCESS || value.is_null()) {
      return out;
    }
    simdjson::dom::object members;
    if (value.get(members) != simdjson::SUCCESS) {
      return WrongType(key, "an object of strings");
    }
    for (const auto field : members) {
      std::string_view text;
      if (field.value.get(text) != simdjson::SUCCESS) {
        return WrongType(key, "an object of strings");
      }
      out.emplace(field.key, text);
    }
    return out;
  }

 private:
  static Status WrongType(const char* key, const char* type) {
    return Status(ErrorCode::kSerialization, fmt::format("{} must be {}.", key, type));
  }

  std::unique_ptr<simdjson::dom::parser> parser_;  // owns the memory object_ points into
  simdjson::dom::object object_;
};

StatusOr<int64_t> ParseInt(const std::string& text, std::string_view what) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status(ErrorCode::kInvalidArgument, fmt::format("{} must be an integer.", what));
  }
  return value;
}

// The query parameter `name`, or nullopt when it is absent or empty (an empty form field).
std::optional<std::string> QueryParam(const ApiRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second;
}

StatusOr<int64_t> BoundedIntParam(const ApiRequest& request, const std::string& name,
                                  int64_t default_value, int64_t min, int64_t max) {
  std::optional<std::string> text = QueryParam(request, name);
  if (!text) {
    return default_value;
  }
  RIFFLE_ASSIGN_OR_RETURN(int64_t value, ParseInt(*text, name));
  if (value < min || value > max) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{} must be between {} and {}.", name, min, max));
  }
  return value;
}

// The stream list's sparklines cover this much of the past.
constexpr int64_t kDefaultListHistoryMinutes = 15;

void WriteSeries(JsonWriter& json, const std::vector<int64_t>& values) {
  json.BeginArray();
  for (int64_t value : values) {
    json.Int(value);
  }
  json.EndArray();
}

void WriteSeries(JsonWriter& json, const std::vector<std::optional<int64_t>>& values) {
  json.BeginArray();
  for (const std::optional<int64_t>& value : values) {
    value ? json.Int(*value) : json.Null();
  }
  json.EndArray();
}

void WriteTraffic(JsonWriter& json, const TrafficSeries& traffic) {
  json.BeginObject();
  json.Key("incoming_bytes");
  WriteSeries(json, traffic.incoming_bytes);
  json.Key("incoming_records");
  WriteSeries(json, traffic.incoming_records);
  json.Key("iterator_age_ms");
  WriteSeries(json, traffic.iterator_age_ms);
  json.EndObject();
}

// Where the series of an answer sit in time: value i covers [start_ms + i * interval_ms,
// start_ms + (i + 1) * interval_ms). `history` is null when riffled keeps none.
void WriteHistoryFrame(JsonWriter& json, const MetricsHistory* history, int64_t start_ms) {
  json.Key("history").BeginObject();
  json.Key("kept").Bool(history != nullptr);
  json.Key("interval_ms").Int(history == nullptr ? 0 : history->interval_ms());
  json.Key("start_ms").Int(start_ms);
  json.EndObject();
}

StreamRef StreamNamed(const std::string& name) {
  return StreamRef{.name = name, .arn = {}};
}

void WriteStreamSummary(JsonWriter& json, const broker::StreamDescription& stream) {
  json.Key("name").String(stream.stream_name);
  json.Key("arn").String(stream.stream_arn);
  json.Key("status").String(stream.stream_status);
  json.Key("mode").String(stream.stream_mode);
  json.Key("open_shard_count").Int(stream.open_shard_count);
  json.Key("retention_period_hours").Int(stream.retention_period_hours);
  json.Key("consumer_count").Int(stream.consumer_count);
  json.Key("creation_time_ms").Int(stream.creation_time_ms);
  json.Key("encryption_type").String(stream.encryption_type);
  json.Key("max_record_size_kib").Int(stream.max_record_size_kib);
}

void WriteRecord(JsonWriter& json, const std::string& shard_id, const broker::Record& record,
                 size_t preview_bytes) {
  const bool truncated = record.data.size() > preview_bytes;
  json.BeginObject();
  json.Key("shard_id").String(shard_id);
  json.Key("sequence_number").String(record.sequence_number);
  json.Key("partition_key").String(record.partition_key);
  json.Key("arrival_time_ms").Int(record.arrival_time_ms);
  json.Key("size").Int(static_cast<int64_t>(record.data.size()));
  json.Key("truncated").Bool(truncated);
  json.Key("data_base64")
      .PlainString(broker::Base64Encode(std::string_view(record.data).substr(0, preview_bytes)));
  json.EndObject();
}

// Every shard of the stream, open and closed, in ListShards order.
StatusOr<std::vector<broker::ShardDescription>> ListAllShards(broker::Broker& broker,
                                                              const broker::RequestContext& ctx,
                                                              const std::string& stream) {
  std::vector<broker::ShardDescription> shards;
  broker::ListShardsRequest request;
  request.stream = StreamNamed(stream);
  while (true) {
    RIFFLE_ASSIGN_OR_RETURN(broker::ListShardsResult page, broker.ListShards(ctx, request));
    std::move(page.shards.begin(), page.shards.end(), std::back_inserter(shards));
    if (!page.next_token) {
      return shards;
    }
    request = broker::ListShardsRequest{};
    request.next_token = std::move(page.next_token);
  }
}

// The shards that hold a partition key's records: the open shard it routes to now and that
// shard's ancestors, which held the key before the splits and merges that made it.
StatusOr<std::set<std::string>> ShardsOfPartitionKey(
    broker::Broker& broker, const broker::RequestContext& ctx, const std::string& stream,
    const std::string& partition_key, const std::vector<broker::ShardDescription>& shards) {
  const std::optional<broker::ShardRef> route =
      broker.RouteRecord(ctx, StreamNamed(stream), partition_key, std::nullopt);
  if (!route) {
    return Status(
        ErrorCode::kInvalidArgument,
        fmt::format("The partition key {} cannot be routed in stream {}.", partition_key, stream));
  }
  std::map<std::string, const broker::ShardDescription*> by_id;
  std::vector<std::string> pending;
  for (const broker::ShardDescription& shard : shards) {
    by_id[shard.shard_id] = &shard;
    if (broker.RouteShardId(ctx, StreamNamed(stream), shard.shard_id) == route) {
      pending.push_back(shard.shard_id);
    }
  }
  std::set<std::string> lineage;
  while (!pending.empty()) {
    const std::string id = std::move(pending.back());
    pending.pop_back();
    auto it = by_id.find(id);
    if (it == by_id.end() || !lineage.insert(id).second) {
      continue;  // an ancestor trimmed away by retention, or one reached twice through a merge
    }
    for (const std::optional<std::string>& parent :
         {it->second->parent_shard_id, it->second->adjacent_parent_shard_id}) {
      if (parent) {
        pending.push_back(*parent);
      }
    }
  }
  return lineage;
}

// RFC 3339 ("2026-12-04T07:00:00Z", "2026-12-04T08:00:00.250+01:00") or milliseconds since the
// epoch.
StatusOr<int64_t> ParseTimestamp(const std::string& text) {
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return ParseInt(text, "timestamp");
  }
  StatusOr<int64_t> millis = ParseRfc3339Millis(text);
  if (!millis.ok()) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("The timestamp {} is neither ISO 8601 with a time zone "
                              "(2026-12-04T07:00:00Z) nor milliseconds since the epoch.",
                              text));
  }
  return millis;
}

// Where a read of the records starts, from the query: `cursor` (a page's continuation), or
// `from` = TRIM_HORIZON | LATEST | AT_TIMESTAMP (+ `timestamp`) | AT_SEQUENCE_NUMBER
// (+ `sequence_number`).
StatusOr<ReadCursor> StartOfRead(const ApiRequest& request, int64_t now_ms) {
  if (std::optional<std::string> cursor = QueryParam(request, "cursor")) {
    return ReadCursor::Parse(*cursor);
  }
  const std::string from = QueryParam(request, "from").value_or("TRIM_HORIZON");
  if (from == "TRIM_HORIZON") {
    return ReadCursor(
        ShardPosition{.type = "TRIM_HORIZON", .sequence_number = {}, .timestamp_ms = 0});
  }
  if (from == "LATEST") {
    // LATEST as an instant, not as each shard's end: a tail that polls from here must still
    // see the records that arrive between two polls, and in the children of a later split.
    return ReadCursor(
        ShardPosition{.type = "AT_TIMESTAMP", .sequence_number = {}, .timestamp_ms = now_ms});
  }
  if (from == "AT_TIMESTAMP") {
    std::optional<std::string> timestamp = QueryParam(request, "timestamp");
    if (!timestamp) {
      return Status(ErrorCode::kInvalidArgument, "from=AT_TIMESTAMP needs a timestamp.");
    }
    RIFFLE_ASSIGN_OR_RETURN(int64_t timestamp_ms, ParseTimestamp(*timestamp));
    return ReadCursor(
        ShardPosition{.type = "AT_TIMESTAMP", .sequence_number = {}, .timestamp_ms = timestamp_ms});
  }
  if (from == "AT_SEQUENCE_NUMBER") {
    std::optional<std::string> sequence_number = QueryParam(request, "sequence_number");
    if (!sequence_number) {
      return Status(ErrorCode::kInvalidArgument,
                    "from=AT_SEQUENCE_NUMBER needs a sequence_number.");
    }
    return ReadCursor(ShardPosition{
        .type = "AT_SEQUENCE_NUMBER", .sequence_number = *sequence_number, .timestamp_ms = 0});
  }
  return Status(ErrorCode::kInvalidArgument,
                fmt::format("from must be TRIM_HORIZON, LATEST, AT_TIMESTAMP or "
                            "AT_SEQUENCE_NUMBER, not {}.",
                            from));
}

struct ShardRead {
  std::string shard_id;
  std::vector<broker::Record> records;  // as read, before the partition-key filter
  std::vector<size_t> matching;         // indexes into records
  size_t taken = 0;                     // how many of `matching` the page holds
};

struct RecordPage {
  explicit RecordPage(ReadCursor start) : next(std::move(start)) {}

  std::vector<ShardRead> shards;
  // The page's records: (shard index, index into that shard's records), oldest first.
  std::vector<std::pair<size_t, size_t>> order;
  ReadCursor next;
  int32_t throttled_shards = 0;
};

// Reads one page: up to `limit` records from each shard, merged by arrival time and cut at
// `limit` in all. The next cursor moves each shard past what the page shows of it, so paging
// on never skips a record and never shows one twice.
StatusOr<RecordPage> ReadPage(broker::Broker& broker, const broker::RequestContext& ctx,
                              const std::string& stream, const ReadCursor& cursor,
                              const std::optional<std::string>& partition_key, int64_t limit) {
  RIFFLE_ASSIGN_OR_RETURN(std::vector<broker::ShardDescription> shards,
                          ListAllShards(broker, ctx, stream));
  std::optional<std::set<std::string>> only;
  if (partition_key) {
    RIFFLE_ASSIGN_OR_RETURN(only,
                            ShardsOfPartitionKey(broker, ctx, stream, *partition_key, shards));
  }
  RecordPage page(cursor);
  std::optional<Status> first_rejection;
  for (const broker::ShardDescription& shard : shards) {
    if (only && !only->contains(shard.shard_id)) {
      continue;
    }
    const std::optional<ShardPosition> position = cursor.PositionOf(shard.shard_id);
    if (!position) {
      continue;
    }
    broker::GetShardIteratorRequest iterator_request;
    iterator_request.stream = StreamNamed(stream);
    iterator_request.shard_id = shard.shard_id;
    iterator_request.shard_iterator_type = position->type;
    if (!position->sequence_number.empty()) {
      iterator_request.starting_sequence_number = position->sequence_number;
    }
    if (position->type == "AT_TIMESTAMP") {
      iterator_request.timestamp_ms = position->timestamp_ms;
    }
    StatusOr<std::string> iterator = broker.GetShardIterator(ctx, iterator_request);
    if (!iterator.ok() && iterator.status().code() == ErrorCode::kInvalidArgument &&
        cursor.SequenceNumberForAnyShard()) {
      // A sequence number belongs to one shard; every other shard refuses it.
      first_rejection = first_rejection.value_or(iterator.status());
      continue;
    }
    RIFFLE_RETURN_IF_ERROR(iterator.status());
    broker::GetRecordsRequest records_request;
    records_request.shard_iterator = *iterator;
    records_request.limit = limit;
    StatusOr<broker::GetRecordsResult> result = broker.GetRecords(ctx, records_request);
    if (!result.ok() && result.status().code() == ErrorCode::kProvisionedThroughputExceeded) {
      // The shard's read quota is shared with real consumers: read it on the next page.
      ++page.throttled_shards;
      continue;
    }
    RIFFLE_RETURN_IF_ERROR(result.status());
    ShardRead& read = page.shards.emplace_back();
    read.shard_id = shard.shard_id;
    read.records = std::move(result->records);
    for (size_t i = 0; i < read.records.size(); ++i) {
      if (!partition_key || read.records[i].partition_key == *partition_key) {
        read.matching.push_back(i);
      }
    }
    if (cursor.SequenceNumberForAnyShard()) {
      page.next.Set(shard.shard_id, *position);  // this shard took the sequence number
    }
  }
  if (cursor.SequenceNumberForAnyShard()) {
    if (page.shards.empty() && page.throttled_shards == 0 && first_rejection) {
      return *first_rejection;
    }
    page.next.StopAtUnlistedShards();
  }

  // Merge the shards by arrival time; a shard's own records keep their order.
  using Head = std::pair<int64_t, size_t>;  // (arrival time of the shard's next record, shard)
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (size_t s = 0; s < page.shards.size(); ++s) {
    const ShardRead& read = page.shards[s];
    if (!read.matching.empty()) {
      heads.emplace(read.records[read.matching.front()].arrival_time_ms, s);
    }
  }
  while (!heads.empty() && static_cast<int64_t>(page.order.size()) < limit) {
    const size_t s = heads.top().second;
    heads.pop();
    ShardRead& read = page.shards[s];
    page.order.emplace_back(s, read.matching[read.taken++]);
    if (read.taken < read.matching.size()) {
      heads.emplace(read.records[read.matching[read.taken]].arrival_time_ms, s);
    }
  }
  for (const ShardRead& read : page.shards) {
    // All it showed: past everything read, the records the filter hid too. Else past the last
    // one shown.
    const broker::Record* last = nullptr;
    if (read.taken == read.matching.size()) {
      last = read.records.empty() ? nullptr : &read.records.back();
    } else if (read.taken > 0) {
      last = &read.records[read.matching[read.taken - 1]];
    }
    if (last != nullptr) {
      page.next.Set(read.shard_id, ShardPosition{.type = "AFTER_SEQUENCE_NUMBER",
                                                 .sequence_number = last->sequence_number,
                                                 .timestamp_ms = 0});
    }
  }
  return page;
}

}  // namespace

ConsoleApi::ConsoleApi(broker::Broker& broker, ConsoleApiOptions options)
    : broker_(broker), options_(std::move(options)) {}

void ConsoleApi::Stop() {
  MutexLock lock(&stop_mu_);
  stopped_ = true;
  stop_cv_.SignalAll();
}

bool ConsoleApi::WaitUnlessStopped(std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  MutexLock lock(&stop_mu_);
  while (!stopped_ && !stop_cv_.WaitWithDeadline(&stop_mu_, deadline)) {
  }
  return !stopped_;
}

ApiResponse ConsoleApi::Handle(const ApiRequest& request) {
  if (request.method != "GET") {
    if (Status same_origin = CheckSameOrigin(request); !same_origin.ok()) {
      return ErrorResponse(same_origin);
    }
  }
  // The console acts as the broker's default account and region, with the signed-in key (if
  // any) as the caller, so that listing shows only the streams the key may use.
  broker::RequestContext ctx = ctx_;
  if (options_.authorize) {
    StatusOr<std::shared_ptr<const auth::AccessKey>> key = options_.authorize(request);
    if (!key.ok()) {
      return ErrorResponse(key.status());
    }
    ctx.caller = std::move(key).value();
  }
  // /api/streams[/<name>[/<what>...]]
  std::vector<std::string> parts;
  for (size_t start = 1; start <= request.path.size();) {
    const size_t slash = std::min(request.path.find('/', start), request.path.size());
    if (slash > start) {
      parts.push_back(request.path.substr(start, slash - start));
    }
    start = slash + 1;
  }
  const std::string& method = request.method;
  if (parts.size() < 2 || parts[0] != "api" || parts[1] != "streams") {
    return ErrorResponse(Status(ErrorCode::kUnknownOperation,
                                fmt::format("No API at {} {}.", method, request.path)));
  }
  if (parts.size() == 2 && method == "GET") {
    return ListStreams(ctx, request);
  }
  if (parts.size() == 2 && method == "POST") {
    return CreateStream(request);
  }
  if (parts.size() >= 3) {
    const std::string& stream = parts[2];
    const std::vector<std::string> rest(parts.begin() + 3, parts.end());
    const std::string action = rest.empty() ? "" : rest[0];
    if (rest.empty() && method == "GET") {
      return DescribeStream(stream);
    }
    if (rest.size() == 1 && method == "GET" && action == "metrics") {
      return StreamMetrics(stream, request);
    }
    if (rest.empty() && method == "DELETE") {
      return DeleteStream(stream);
    }
    if (rest.size() == 1 && method == "POST" && action == "shard-count") {
      return UpdateShardCount(stream, request);
    }
    if (rest.size() == 1 && method == "POST" && action == "split") {
      return SplitShard(stream, request);
    }
    if (rest.size() == 1 && method == "POST" && action == "merge") {
      return MergeShards(stream, request);
    }
    if (rest.size() == 1 && method == "POST" && action == "records") {
      return PutRecord(stream, request);
    }
    if (rest.size() == 1 && method == "GET" && action == "records") {
      return ReadRecords(stream, request);
    }
    // /api/streams/<name>/shards/<shard id>/records/<sequence number>
    if (rest.size() == 4 && method == "GET" && action == "shards" && rest[2] == "records") {
      return DownloadRecord(stream, rest[1], rest[3]);
    }
  }
  return ErrorResponse(
      Status(ErrorCode::kUnknownOperation, fmt::format("No API at {} {}.", method, request.path)));
}

Status ConsoleApi::CheckSameOrigin(const ApiRequest& request) {
  // A form on another site can POST text/plain or form data without asking; only a same-origin
  // page (or a client that is not a browser) may send application/json without a preflight,
  // and the console never answers one.
  if (request.content_type.substr(0, request.content_type.find(';')) != "application/json") {
    return Status(ErrorCode::kAccessDenied,
                  "Requests that change something must have Content-Type: application/json.");
  }
  if (!request.sec_fetch_site.empty() && request.sec_fetch_site != "same-origin" &&
      request.sec_fetch_site != "none") {
    return Status(
        ErrorCode::kAccessDenied,
        fmt::format("Cross-origin request refused (Sec-Fetch-Site: {}).", request.sec_fetch_site));
  }
  if (!request.origin.empty() && request.origin != "http://" + request.host) {
    return Status(ErrorCode::kAccessDenied,
                  fmt::format("Cross-origin request refused (Origin: {}).", request.origin));
  }
  return Status();
}

ApiResponse ConsoleApi::ListStreams(const broker::RequestContext& ctx,
                                     const ApiRequest& request) {
  StatusOr<int64_t> history_minutes =
      BoundedIntParam(request, "history_minutes", kDefaultListHistoryMinutes, 0, 60);
  if (!history_minutes.ok()) {
    return ErrorResponse(history_minutes.status());
  }
  int64_t history_start_ms = 0;
  std::map<std::string, TrafficSeries> traffic;
  if (options_.history != nullptr && *history_minutes > 0) {
    traffic = options_.history->StreamTraffic(
        *history_minutes * 60'000 / options_.history->interval_ms(), &history_start_ms);
  }
  JsonWriter json;
  json.BeginObject().Key("streams").BeginArray();
  broker::ListStreamsRequest list;
  while (true) {
    // Under a credentials file the broker lists only the streams the caller's key may use.
    StatusOr<broker::ListStreamsResult> page = broker_.ListStreams(ctx, list);
    if (!page.ok()) {
      return ErrorResponse(page.status());
    }
    for (const broker::StreamSummary& summary : page->streams) {
      StatusOr<broker::StreamDescription> stream =
          broker_.DescribeStreamSummary(ctx_, StreamNamed(summary.stream_name));
      if (!stream.ok()) {
        continue;  // deleted since it was listed
      }
      json.BeginObject();
      WriteStreamSummary(json, *stream);
      auto it = traffic.find(summary.stream_name);
      if (it == traffic.end()) {
        json.Key("incoming_bytes_history").Null().Key("incoming_records_history").Null();
      } else {
        json.Key("incoming_bytes_history");
        WriteSeries(json, it->second.incoming_bytes);
        json.Key("incoming_records_history");
        WriteSeries(json, it->second.incoming_records);
      }
      json.EndObject();
    }
    if (!page->has_more_streams || !page->next_token) {
      break;
    }
    list = broker::ListStreamsRequest{};
    list.next_token = page->next_token;
  }
  json.EndArray();
  WriteHistoryFrame(json, options_.history, history_start_ms);
  json.EndObject();
  return JsonResponse(200, json);
}

ApiResponse ConsoleApi::StreamMetrics(const std::string& stream, const ApiRequest& request) {
  StatusOr<int64_t> minutes = BoundedIntParam(request, "minutes", 60, 1, 60);
  StatusOr<int64_t> max_shards = BoundedIntParam(request, "shards", 10, 0, 1000);
  if (Status error = FirstError({minutes.status(), max_shards.status()}); !error.ok()) {
    return ErrorResponse(error);
  }
  StatusOr<broker::StreamDescription> summary =
      broker_.DescribeStreamSummary(ctx_, StreamNamed(stream));
  if (!summary.ok()) {
    return ErrorResponse(summary.status());
  }
  StreamHistory history;
  if (options_.history != nullptr) {
    history = options_.history->History(stream, *minutes * 60'000 / options_.history->interval_ms());
  }
  JsonWriter json;
  json.BeginObject();
  WriteHistoryFrame(json, options_.history, history.start_ms);
  json.Key("intervals").Int(history.intervals);
  json.Key("stream");
  if (history.stream) {
    WriteTraffic(json, *history.stream);
  } else {
    json.Null();
  }
  json.Key("shards").BeginArray();
  const size_t shown = std::min(history.shards.size(), static_cast<size_t>(*max_shards));
  for (size_t i = 0; i < shown; ++i) {
    json.BeginObject().Key("shard_id").String(history.shards[i].shard_id);
    json.Key("traffic");
    WriteTraffic(json, history.shards[i].traffic);
    json.EndObject();
  }
  json.EndArray();
  json.Key("shards_not_shown").Int(static_cast<int64_t>(history.shards.size() - shown));
  json.Key("shards_without_history").Int(history.shards_without_history);
  json.Key("consumer_groups").BeginArray();
  for (const GroupHistory& group : history.groups) {
    json.BeginObject().Key("name").String(group.group);
    json.Key("lag_records");
    WriteSeries(json, group.lag_records);
    json.Key("lag_ms");
    WriteSeries(json, group.lag_ms);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return JsonResponse(200, json);
}

ApiResponse ConsoleApi::CreateStream(const ApiRequest& request) {
  StatusOr<JsonBody> body = JsonBody::Parse(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  broker::CreateStreamRequest create;
  StatusOr<std::optional<std::string>> name = body->String("name");
  StatusOr<std::optional<std::string>> mode = body->String("mode");
  StatusOr<std::optional<int64_t>> shard_count = body->Int("shard_count");
  StatusOr<std::optional<int64_t>> retention = body->Int("retention_period_hours");
  StatusOr<std::map<std::string, std::string>> tags = body->StringMap("tags");
  if (Status error = FirstError(
          {name.status(), mode.status(), shard_count.status(), retention.status(), tags.status()});
      !error.ok()) {
    return ErrorResponse(error);
  }
  create.stream_name = *name;
  create.stream_mode = *mode;
  create.shard_count = *shard_count;
  create.tags = std::move(*tags);
  if (Status created = broker_.CreateStream(ctx_, create); !created.ok()) {
    return ErrorResponse(created);
  }
  const int32_t default_retention = broker::StreamDescription{}.retention_period_hours;
  if (*retention && **retention != default_retention) {
    broker::RetentionRequest change{.stream = StreamNamed(**name),
                                    .retention_period_hours = *retention};
    Status changed = **retention > default_retention
                         ? broker_.IncreaseStreamRetentionPeriod(ctx_, change)
                         : broker_.DecreaseStreamRetentionPeriod(ctx_, change);
    if (!changed.ok()) {
      return ErrorResponse(Status(changed.code(),
                                  "The stream was created, but its retention "
                                  "period was not set: " +
                                      changed.message()));
    }
  }
  JsonWriter json;
  json.BeginObject().Key("name").String(**name).EndObject();
  return JsonResponse(201, json);
}

ApiResponse ConsoleApi::DescribeStream(const std::string& stream) {
  StatusOr<broker::StreamDescription> summary =
      broker_.DescribeStreamSummary(ctx_, StreamNamed(stream));
  if (!summary.ok()) {
    return ErrorResponse(summary.status());
  }
  StatusOr<std::vector<broker::ShardDescription>> shards = ListAllShards(broker_, ctx_, stream);
  if (!shards.ok()) {
    return ErrorResponse(shards.status());
  }
  JsonWriter json;
  json.BeginObject();
  WriteStreamSummary(json, *summary);
  json.Key("shard_level_metrics").BeginArray();
  for (const std::string& metric : summary->shard_level_metrics) {
    json.String(metric);
  }
  json.EndArray();
  json.Key("shards").BeginArray();
  for (const broker::ShardDescription& shard : *shards) {
    json.BeginObject();
    json.Key("shard_id").String(shard.shard_id);
    json.Key("parent_shard_id");
    shard.parent_shard_id ? json.String(*shard.parent_shard_id) : json.Null();
    json.Key("adjacent_parent_shard_id");
    shard.adjacent_parent_shard_id ? json.String(*shard.adjacent_parent_shard_id) : json.Null();
    json.Key("starting_hash_key").String(shard.hash_key_range.starting_hash_key);
    json.Key("ending_hash_key").String(shard.hash_key_range.ending_hash_key);
    json.Key("starting_sequence_number").String(shard.starting_sequence_number);
    json.Key("ending_sequence_number");
    shard.ending_sequence_number ? json.String(*shard.ending_sequence_number) : json.Null();
    json.Key("open").Bool(!shard.ending_sequence_number.has_value());
    json.EndObject();
  }
  json.EndArray();

  json.Key("tags").BeginObject();
  broker::ListTagsRequest tags_request{
      .stream = StreamNamed(stream), .exclusive_start_tag_key = {}, .limit = {}};
  while (true) {
    StatusOr<broker::ListTagsResult> tags = broker_.ListTagsForStream(ctx_, tags_request);
    if (!tags.ok()) {
      return ErrorResponse(tags.status());
    }
    for (const auto& [key, value] : tags->tags) {
      json.Key(key).String(value);
    }
    if (!tags->has_more_tags || tags->tags.empty()) {
      break;
    }
    tags_request.exclusive_start_tag_key = tags->tags.back().first;
  }
  json.EndObject();

  json.Key("consumers").BeginArray();
  broker::ListConsumersRequest consumers_request;
  consumers_request.stream_arn = summary->stream_arn;
  while (true) {
    StatusOr<broker::ListConsumersResult> consumers =
        broker_.ListStreamConsumers(ctx_, consumers_request);
    if (!consumers.ok()) {
      return ErrorResponse(consumers.status());
    }
    for (const broker::ConsumerDescription& consumer : consumers->consumers) {
      json.BeginObject();
      json.Key("name").String(consumer.consumer_name);
      json.Key("status").String(consumer.consumer_status);
      json.Key("creation_time_ms").Int(consumer.creation_time_ms);
      json.EndObject();
    }
    if (!consumers->next_token) {
      break;
    }
    consumers_request = broker::ListConsumersRequest{};
    consumers_request.next_token = consumers->next_token;
  }
  json.EndArray();
  json.EndObject();
  return JsonResponse(200, json);
}

ApiResponse ConsoleApi::DeleteStream(const std::string& stream) {
  Status deleted =
      broker_.DeleteStream(ctx_, broker::DeleteStreamRequest{.stream = StreamNamed(stream),
                                                             .enforce_consumer_deletion = false});
  return deleted.ok() ? EmptyObject(200) : ErrorResponse(deleted);
}

ApiResponse ConsoleApi::UpdateShardCount(const std::string& stream, const ApiRequest& request) {
  StatusOr<JsonBody> body = JsonBody::Parse(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  StatusOr<std::optional<int64_t>> target = body->Int("target_shard_count");
  if (!target.ok()) {
    return ErrorResponse(target.status());
  }
  StatusOr<broker::UpdateShardCountResult> updated = broker_.UpdateShardCount(
      ctx_, broker::UpdateShardCountRequest{.stream = StreamNamed(stream),
                                            .target_shard_count = *target,
                                            .scaling_type = "UNIFORM_SCALING"});
  if (!updated.ok()) {
    return ErrorResponse(updated.status());
  }
  JsonWriter json;
  json.BeginObject()
      .Key("current_shard_count")
      .Int(updated->current_shard_count)
      .Key("target_shard_count")
      .Int(updated->target_shard_count)
      .EndObject();
  return JsonResponse(200, json);
}

ApiResponse ConsoleApi::SplitShard(const std::string& stream, const ApiRequest& request) {
  StatusOr<JsonBody> body = JsonBody::Parse(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  StatusOr<std::optional<std::string>> shard = body->String("shard_id");
  StatusOr<std::optional<std::string>> hash_key = body->String("new_starting_hash_key");
  if (Status error = FirstError({shard.status(), hash_key.status()}); !error.ok()) {
    return ErrorResponse(error);
  }
  Status split =
      broker_.SplitShard(ctx_, broker::SplitShardRequest{.stream = StreamNamed(stream),
                                                         .shard_to_split = *shard,
                                                         .new_starting_hash_key = *hash_key});
  return split.ok() ? EmptyObject(200) : ErrorResponse(split);
}

ApiResponse ConsoleApi::MergeShards(const std::string& stream, const ApiRequest& request) {
  StatusOr<JsonBody> body = JsonBody::Parse(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  StatusOr<std::optional<std::string>> shard = body->String("shard_id");
  StatusOr<std::optional<std::string>> adjacent = body->String("adjacent_shard_id");
  if (Status error = FirstError({shard.status(), adjacent.status()}); !error.ok()) {
    return ErrorResponse(error);
  }
  Status merged =
      broker_.MergeShards(ctx_, broker::MergeShardsRequest{.stream = StreamNamed(stream),
                                                           .shard_to_merge = *shard,
                                                           .adjacent_shard_to_merge = *adjacent});
  return merged.ok() ? EmptyObject(200) : ErrorResponse(merged);
}

ApiResponse ConsoleApi::PutRecord(const std::string& stream, const ApiRequest& request) {
  StatusOr<JsonBody> body = JsonBody::Parse(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  StatusOr<std::optional<std::string>> partition_key = body->String("partition_key");
  StatusOr<std::optional<std::string>> data_base64 = body->String("data_base64");
  StatusOr<std::optional<std::string>> explicit_hash_key = body->String("explicit_hash_key");
  if (Status error =
          FirstError({partition_key.status(), data_base64.status(), explicit_hash_key.status()});
      !error.ok()) {
    return ErrorResponse(error);
  }
  broker::PutRecordRequest put;
  put.stream = StreamNamed(stream);
  put.partition_key = *partition_key;
  put.explicit_hash_key = *explicit_hash_key;
  if (*data_base64) {
    std::optional<std::string> data = broker::Base64Decode(**data_base64);
    if (!data) {
      return ErrorResponse(Status(ErrorCode::kInvalidArgument, "data_base64 is not valid base64."));
    }
    put.data = std::move(*data);
  }
  StatusOr<broker::PutRecordResult> result = broker_.PutRecord(ctx_, put);
  if (!result.ok()) {
    return ErrorResponse(result.status());
  }
  JsonWriter json;
  json.BeginObject()
      .Key("shard_id")
      .String(result->shard_id)
      .Key("sequence_number")
      .String(result->sequence_number)
      .EndObject();
  return JsonResponse(201, json);
}

ApiResponse ConsoleApi::ReadRecords(const std::string& stream, const ApiRequest& request) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  StatusOr<ReadCursor> cursor = StartOfRead(request, now_ms);
  StatusOr<int64_t> limit = BoundedIntParam(request, "limit", kDefaultReadLimit, 1, kMaxReadLimit);
  StatusOr<int64_t> preview_bytes =
      BoundedIntParam(request, "preview_bytes", kDefaultPreviewBytes, 0, kMaxPreviewBytes);
  StatusOr<int64_t> wait_ms =
      BoundedIntParam(request, "wait_ms", 0, 0, options_.max_tail_wait.count());
  if (Status error =
          FirstError({cursor.status(), limit.status(), preview_bytes.status(), wait_ms.status()});
      !error.ok()) {
    return ErrorResponse(error);
  }
  const std::optional<std::string> partition_key = QueryParam(request, "partition_key");
  // A live tail asks with wait_ms: it is answered once there are records, or when the wait is
  // over with none.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(*wait_ms);
  StatusOr<RecordPage> page = ReadPage(broker_, ctx_, stream, *cursor, partition_key, *limit);
  while (page.ok() && page->order.empty() && std::chrono::steady_clock::now() < deadline &&
         WaitUnlessStopped(std::min(options_.tail_poll_interval,
                                    std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::steady_clock::now())))) {
    page = ReadPage(broker_, ctx_, stream, page->next, partition_key, *limit);
  }
  if (!page.ok()) {
    return ErrorResponse(page.status());
  }
  JsonWriter json;
  json.BeginObject().Key("records").BeginArray();
  for (const auto& [shard, index] : page->order) {
    WriteRecord(json, page->shards[shard].shard_id, page->shards[shard].records[index],
                static_cast<size_t>(*preview_bytes));
  }
  json.EndArray();
  json.Key("cursor").String(page->next.ToString());
  json.Key("throttled_shards").Int(page->throttled_shards);
  json.EndObject();
  return JsonResponse(200, json);
}

ApiResponse ConsoleApi::DownloadRecord(const std::string& stream, const std::string& shard_id,
                                       const std::string& sequence_number) {
  broker::GetShardIteratorRequest iterator_request;
  iterator_request.stream = StreamNamed(stream);
  iterator_request.shard_id = shard_id;
  iterator_request.shard_iterator_type = "AT_SEQUENCE_NUMBER";
  iterator_request.starting_sequence_number = sequence_number;
  StatusOr<std::string> iterator = broker_.GetShardIterator(ctx_, iterator_request);
  if (!iterator.ok()) {
    return ErrorResponse(iterator.status());
  }
  broker::GetRecordsRequest records_request;
  records_request.shard_iterator = *iterator;
  records_request.limit = 1;
  StatusOr<broker::GetRecordsResult> result = broker_.GetRecords(ctx_, records_request);
  if (!result.ok()) {
    return ErrorResponse(result.status());
  }
  if (result->records.empty() || result->records[0].sequence_number != sequence_number) {
    return ErrorResponse(
        Status(ErrorCode::kResourceNotFound,
               fmt::format("Shard {} of stream {} has no record {} (trimmed by retention?).",
                           shard_id, stream, sequence_number)));
  }
  ApiResponse response;
  response.content_type = "application/octet-stream";
  response.body = std::move(result->records[0].data);
  response.attachment_name = fmt::format("{}-{}.bin", stream, sequence_number);
  return response;
}

}  // namespace riffle::console
