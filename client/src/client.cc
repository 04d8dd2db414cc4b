#include "riffle/client.h"

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/sync_stream.h>

#include "riffle/v1/riffle.grpc.pb.h"

namespace riffle::client {
namespace {

// The server names the Kinesis error code of every failed call under this key.
constexpr char kErrorCodeTrailer[] = "riffle-error-code";
// A GetRecords response holds up to 10 MiB of data plus up to 10000 keys and sequence numbers;
// gRPC's default receive limit of 4 MiB would refuse it.
constexpr int kMaxReceiveMessageBytes = 64 * 1024 * 1024;
// Tries of a call refused by the server's call rates, and the first pause between them (the
// pauses double: 50, 100, 200, 400 ms, jittered; enough for a one-call-per-second rate).
constexpr int kMaxRateAttempts = 6;
constexpr std::chrono::milliseconds kFirstRateBackoff{50};

// Between half and all of `pause`, so that clients refused together do not retry together.
std::chrono::milliseconds Jittered(std::chrono::milliseconds pause) {
  thread_local std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<int64_t> spread(pause.count() / 2, pause.count());
  return std::chrono::milliseconds(spread(random));
}

Status FromGrpc(const grpc::Status& status, const grpc::ClientContext& context,
                const std::string& endpoint) {
  if (status.ok()) {
    return Status();
  }
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find(kErrorCodeTrailer); it != trailers.end()) {
    std::string_view name(it->second.data(), it->second.size());
    if (std::optional<ErrorCode> code = ErrorCodeFromKinesisName(name)) {
      return Status(*code, status.error_message());
    }
    // A code from a newer server: keep its name where a user sees it.
    return Status(ErrorCode::kInternalFailure, std::string(name) + ": " + status.error_message());
  }
  // No trailer: the call never reached Riffle's service (connection refused, reset, timed out),
  // or the server went away under it (a shutdown cancels the calls in flight; the only calls this
  // client cancels itself are subscriptions, and ShardSubscription does not report those).
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return Status(ErrorCode::kServiceUnavailable,
                    "riffled at " + endpoint + " is unavailable: " + status.error_message());
    default:
      return Status(
          ErrorCode::kInternalFailure,
          "gRPC error " + std::to_string(status.error_code()) + ": " + status.error_message());
  }
}

void SetStream(const std::string& stream, v1::StreamRef& ref) {
  if (stream.starts_with("arn:")) {
    ref.set_arn(stream);
  } else {
    ref.set_name(stream);
  }
}

std::optional<StreamMode> ModeFromProto(v1::StreamMode mode) {
  switch (mode) {
    case v1::PROVISIONED:
      return StreamMode::kProvisioned;
    case v1::ON_DEMAND:
      return StreamMode::kOnDemand;
    default:
      return std::nullopt;
  }
}

v1::ShardIteratorType IteratorTypeToProto(IteratorType type) {
  switch (type) {
    case IteratorType::kAtSequenceNumber:
      return v1::AT_SEQUENCE_NUMBER;
    case IteratorType::kAfterSequenceNumber:
      return v1::AFTER_SEQUENCE_NUMBER;
    case IteratorType::kTrimHorizon:
      return v1::TRIM_HORIZON;
    case IteratorType::kLatest:
      return v1::LATEST;
    case IteratorType::kAtTimestamp:
      return v1::AT_TIMESTAMP;
  }
  return v1::SHARD_ITERATOR_TYPE_UNSPECIFIED;
}

HashKeyRange FromProto(const v1::HashKeyRange& in) {
  return {.starting_hash_key = in.starting_hash_key(), .ending_hash_key = in.ending_hash_key()};
}

Shard FromProto(const v1::Shard& in) {
  return Shard{
      .shard_id = in.shard_id(),
      .parent_shard_id = in.parent_shard_id(),
      .adjacent_parent_shard_id = in.adjacent_parent_shard_id(),
      .hash_key_range = FromProto(in.hash_key_range()),
      .starting_sequence_number = in.starting_sequence_number(),
      .ending_sequence_number = in.ending_sequence_number(),
  };
}

std::vector<ChildShard> FromProto(const google::protobuf::RepeatedPtrField<v1::ChildShard>& in) {
  std::vector<ChildShard> out;
  for (const v1::ChildShard& child : in) {
    out.push_back(ChildShard{
        .shard_id = child.shard_id(),
        .parent_shards = {child.parent_shards().begin(), child.parent_shards().end()},
        .hash_key_range = FromProto(child.hash_key_range()),
    });
  }
  return out;
}

// Moves each record's data out of `in`.
std::vector<Record> TakeRecords(google::protobuf::RepeatedPtrField<v1::Record>& in) {
  std::vector<Record> out;
  out.reserve(in.size());
  for (v1::Record& record : in) {
    out.push_back(Record{
        .sequence_number = std::move(*record.mutable_sequence_number()),
        .arrival_time_ms = record.arrival_time_ms(),
        .data = std::move(*record.mutable_data()),
        .partition_key = std::move(*record.mutable_partition_key()),
    });
  }
  return out;
}

Consumer FromProto(v1::Consumer& in) {
  return Consumer{
      .consumer_name = std::move(*in.mutable_consumer_name()),
      .consumer_arn = std::move(*in.mutable_consumer_arn()),
      .consumer_status = std::move(*in.mutable_consumer_status()),
      .creation_time_ms = in.creation_time_ms(),
      .stream_arn = std::move(*in.mutable_stream_arn()),
  };
}

}  // namespace

class ShardSubscription::Call {
 public:
  explicit Call(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeToShardEvent>> reader;
  // Read by SubscribeToShard to learn that the call is open; Next() hands it out first.
  std::optional<v1::SubscribeToShardEvent> first;
  bool finished = false;

  // Ends the call on the client's side and returns the server's verdict.
  Status Finish() {
    finished = true;
    const grpc::Status status = reader->Finish();
    return FromGrpc(status, context, endpoint_);
  }

 private:
  const std::string endpoint_;
};

ShardSubscription::ShardSubscription(std::unique_ptr<Call> call) : call_(std::move(call)) {}

ShardSubscription::~ShardSubscription() {
  if (!call_->finished) {
    Cancel();
    // Drained so that Finish() does not wait for messages nobody reads.
    v1::SubscribeToShardEvent ignored;
    while (call_->reader->Read(&ignored)) {
    }
    call_->Finish().IgnoreError();  // cancelled on purpose: there is no error to report
  }
}

bool ShardSubscription::Next(SubscriptionEvent& event) {
  if (call_->finished) {
    return false;
  }
  v1::SubscribeToShardEvent message;
  if (call_->first) {
    message = std::move(*call_->first);
    call_->first.reset();
  } else if (!call_->reader->Read(&message)) {
    Status finished = call_->Finish();
    // A call this side cancelled ends as CANCELLED, which is not the server's failure.
    status_ = cancelled_.load() ? Status() : std::move(finished);
    return false;
  }
  event.records = TakeRecords(*message.mutable_records());
  event.continuation_sequence_number = std::move(*message.mutable_continuation_sequence_number());
  event.millis_behind_latest = message.millis_behind_latest();
  event.child_shards = FromProto(message.child_shards());
  return true;
}

void ShardSubscription::Cancel() {
  cancelled_.store(true);
  call_->context.TryCancel();
}

namespace {

// TLS with the CA of `options.tls_ca_file`, or plain. A CA file that cannot be read leaves the
// credentials without roots, so every call fails with the reason instead of going out in clear.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const ClientOptions& options) {
  if (options.tls_ca_file.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream pem;
    pem << in.rdbuf();
    return in ? pem.str() : std::string();
  };
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = read(options.tls_ca_file);
  if (!options.tls_cert_file.empty()) {
    ssl.pem_cert_chain = read(options.tls_cert_file);
    ssl.pem_private_key = read(options.tls_key_file);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

class Client::Rpc {
 public:
  explicit Rpc(const ClientOptions& options) : options_(options) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
    stub_ = v1::Riffle::NewStub(
        grpc::CreateCustomChannel(options.endpoint, ChannelCredentials(options), args));
  }

  void Authorize(grpc::ClientContext& context) const {
    if (!options_.credentials.empty()) {
      context.AddMetadata("authorization", "Bearer " + options_.credentials);
    }
  }

  template <typename Request, typename Response>
  using Method = grpc::Status (v1::Riffle::Stub::*)(grpc::ClientContext*, const Request&,
                                                    Response*);

  // A call refused by riffled's call rates (LimitExceededException) did nothing, so it is tried
  // again after a growing, jittered pause, as the AWS SDKs do: a client that calls too often
  // slows down instead of failing.
  template <typename Request, typename Response>
  Status Call(Method<Request, Response> method, const Request& request, Response& response) {
    std::chrono::milliseconds backoff = kFirstRateBackoff;
    for (int attempt = 1;; ++attempt) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
      Authorize(context);
      grpc::Status status = ((*stub_).*method)(&context, request, &response);
      Status result = FromGrpc(status, context, options_.endpoint);
      if (result.code() != ErrorCode::kLimitExceeded || attempt == kMaxRateAttempts) {
        return result;
      }
      response.Clear();
      std::this_thread::sleep_for(Jittered(backoff));
      backoff *= 2;
    }
  }

  // A stream ARN as it is, or the ARN of a named stream (which only the server knows: it holds
  // the region and account).
  StatusOr<std::string> StreamArn(const std::string& stream) {
    if (stream.starts_with("arn:")) {
      return stream;
    }
    v1::DescribeStreamRequest request;
    SetStream(stream, *request.mutable_stream());
    request.set_limit(1);
    v1::DescribeStreamResponse response;
    RIFFLE_RETURN_IF_ERROR(Call(&v1::Riffle::Stub::DescribeStream, request, response));
    return std::move(*response.mutable_description()->mutable_stream_arn());
  }

  Status SetConsumer(const std::string& stream, const std::string& consumer,
                     v1::ConsumerRef& ref) {
    if (consumer.starts_with("arn:")) {
      ref.set_consumer_arn(consumer);
      return Status();
    }
    RIFFLE_ASSIGN_OR_RETURN(*ref.mutable_stream_arn(), StreamArn(stream));
    ref.set_consumer_name(consumer);
    return Status();
  }

  StatusOr<std::unique_ptr<ShardSubscription>> Subscribe(
      const v1::SubscribeToShardRequest& request) {
    auto call = std::make_unique<ShardSubscription::Call>(options_.endpoint);
    Authorize(call->context);
    call->reader = stub_->SubscribeToShard(&call->context, request);
    v1::SubscribeToShardEvent first;
    if (!call->reader->Read(&first)) {
      Status finished = call->Finish();
      if (finished.ok()) {
        return Status(ErrorCode::kInternalFailure, "SubscribeToShard ended before its first event");
      }
      return finished;
    }
    call->first = std::move(first);
    return std::make_unique<ShardSubscription>(std::move(call));
  }

 private:
  const ClientOptions& options_;
  std::unique_ptr<v1::Riffle::Stub> stub_;
};

Client::Client(ClientOptions options)
    : options_(std::move(options)), rpc_(std::make_unique<Rpc>(options_)) {}

Client::~Client() = default;

Status Client::CreateStream(const std::string& stream_name, const CreateStreamOptions& options) {
  v1::CreateStreamRequest request;
  request.set_stream_name(stream_name);
  if (options.shard_count) {
    request.set_shard_count(*options.shard_count);
  }
  if (options.mode) {
    request.set_mode(*options.mode == StreamMode::kOnDemand ? v1::ON_DEMAND : v1::PROVISIONED);
  }
  request.mutable_tags()->insert(options.tags.begin(), options.tags.end());
  if (options.replication_factor) {
    request.set_replication_factor(*options.replication_factor);
  }
  v1::CreateStreamResponse response;
  return rpc_->Call(&v1::Riffle::Stub::CreateStream, request, response);
}

Status Client::DeleteStream(const std::string& stream, const DeleteStreamOptions& options) {
  v1::DeleteStreamRequest request;
  SetStream(stream, *request.mutable_stream());
  request.set_enforce_consumer_deletion(options.enforce_consumer_deletion);
  v1::DeleteStreamResponse response;
  return rpc_->Call(&v1::Riffle::Stub::DeleteStream, request, response);
}

StatusOr<StreamDescription> Client::DescribeStream(const std::string& stream) {
  StreamDescription out;
  v1::DescribeStreamRequest request;
  SetStream(stream, *request.mutable_stream());
  while (true) {
    v1::DescribeStreamResponse response;
    RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::DescribeStream, request, response));
    const v1::StreamDescription& page = response.description();
    out.stream_name = page.stream_name();
    out.stream_arn = page.stream_arn();
    out.stream_status = page.stream_status();
    out.mode = ModeFromProto(page.mode());
    out.retention_period_hours = page.retention_period_hours();
    out.creation_time_ms = page.creation_time_ms();
    out.encryption_type = page.encryption_type();
    out.open_shard_count = page.open_shard_count();
    out.consumer_count = page.consumer_count();
    for (const v1::Shard& shard : page.shards()) {
      out.shards.push_back(FromProto(shard));
    }
    // An empty page that claims more would loop forever; stop at what we have.
    if (!page.has_more_shards() || page.shards().empty()) {
      return out;
    }
    request.set_exclusive_start_shard_id(out.shards.back().shard_id);
  }
}

StatusOr<std::vector<StreamSummary>> Client::ListStreams() {
  std::vector<StreamSummary> out;
  v1::ListStreamsRequest request;
  while (true) {
    v1::ListStreamsResponse response;
    RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::ListStreams, request, response));
    for (const v1::StreamSummary& summary : response.summaries()) {
      out.push_back(StreamSummary{
          .stream_name = summary.stream_name(),
          .stream_arn = summary.stream_arn(),
          .stream_status = summary.stream_status(),
          .mode = ModeFromProto(summary.mode()),
          .creation_time_ms = summary.creation_time_ms(),
      });
    }
    if (!response.has_more_streams() || response.summaries().empty()) {
      return out;
    }
    request.Clear();
    if (!response.next_token().empty()) {
      request.set_next_token(response.next_token());
    } else {
      request.set_exclusive_start_stream_name(out.back().stream_name);
    }
  }
}

StatusOr<std::vector<Shard>> Client::ListShards(const std::string& stream) {
  std::vector<Shard> out;
  v1::ListShardsRequest request;
  SetStream(stream, *request.mutable_stream());
  while (true) {
    v1::ListShardsResponse response;
    RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::ListShards, request, response));
    for (const v1::Shard& shard : response.shards()) {
      out.push_back(FromProto(shard));
    }
    if (response.next_token().empty()) {
      return out;
    }
    // A token excludes every other selector.
    request.Clear();
    request.set_next_token(response.next_token());
  }
}

StatusOr<PutRecordResult> Client::PutRecord(const std::string& stream, const RecordToPut& record,
                                            const std::string& sequence_number_for_ordering) {
  v1::PutRecordRequest request;
  SetStream(stream, *request.mutable_stream());
  request.set_data(record.data);
  request.set_partition_key(record.partition_key);
  request.set_explicit_hash_key(record.explicit_hash_key);
  request.set_sequence_number_for_ordering(sequence_number_for_ordering);
  v1::PutRecordResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::PutRecord, request, response));
  return PutRecordResult{.shard_id = std::move(*response.mutable_shard_id()),
                         .sequence_number = std::move(*response.mutable_sequence_number())};
}

StatusOr<PutRecordsResult> Client::PutRecords(const std::string& stream,
                                              const std::vector<RecordToPut>& records) {
  v1::PutRecordsRequest request;
  SetStream(stream, *request.mutable_stream());
  request.mutable_records()->Reserve(static_cast<int>(records.size()));
  for (const RecordToPut& record : records) {
    v1::PutRecordsEntry& entry = *request.add_records();
    entry.set_data(record.data);
    entry.set_partition_key(record.partition_key);
    entry.set_explicit_hash_key(record.explicit_hash_key);
  }
  v1::PutRecordsResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::PutRecords, request, response));
  PutRecordsResult out;
  out.failed_record_count = response.failed_record_count();
  out.records.reserve(response.records_size());
  for (v1::PutRecordsResultEntry& entry : *response.mutable_records()) {
    out.records.push_back(PutRecordsEntryResult{
        .shard_id = std::move(*entry.mutable_shard_id()),
        .sequence_number = std::move(*entry.mutable_sequence_number()),
        .error_code = std::move(*entry.mutable_error_code()),
        .error_message = std::move(*entry.mutable_error_message()),
    });
  }
  return out;
}

StatusOr<std::string> Client::GetShardIterator(const std::string& stream,
                                               const std::string& shard_id,
                                               const IteratorPosition& position) {
  v1::GetShardIteratorRequest request;
  SetStream(stream, *request.mutable_stream());
  request.set_shard_id(shard_id);
  request.set_type(IteratorTypeToProto(position.type));
  request.set_starting_sequence_number(position.sequence_number);
  if (position.type == IteratorType::kAtTimestamp) {
    request.set_timestamp_ms(position.timestamp_ms);
  }
  v1::GetShardIteratorResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::GetShardIterator, request, response));
  return std::move(*response.mutable_shard_iterator());
}

StatusOr<GetRecordsResult> Client::GetRecords(const std::string& shard_iterator,
                                              std::optional<int32_t> limit) {
  v1::GetRecordsRequest request;
  request.set_shard_iterator(shard_iterator);
  if (limit) {
    request.set_limit(*limit);
  }
  v1::GetRecordsResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::GetRecords, request, response));
  GetRecordsResult out;
  out.records = TakeRecords(*response.mutable_records());
  out.next_shard_iterator = std::move(*response.mutable_next_shard_iterator());
  out.millis_behind_latest = response.millis_behind_latest();
  out.child_shards = FromProto(response.child_shards());
  return out;
}

Status Client::IncreaseStreamRetentionPeriod(const std::string& stream, int32_t hours) {
  v1::RetentionRequest request;
  SetStream(stream, *request.mutable_stream());
  request.set_retention_period_hours(hours);
  v1::RetentionResponse response;
  return rpc_->Call(&v1::Riffle::Stub::IncreaseStreamRetentionPeriod, request, response);
}

Status Client::DecreaseStreamRetentionPeriod(const std::string& stream, int32_t hours) {
  v1::RetentionRequest request;
  SetStream(stream, *request.mutable_stream());
  request.set_retention_period_hours(hours);
  v1::RetentionResponse response;
  return rpc_->Call(&v1::Riffle::Stub::DecreaseStreamRetentionPeriod, request, response);
}

Status Client::AddTagsToStream(const std::string& stream,
                               const std::map<std::string, std::string>& tags) {
  v1::AddTagsRequest request;
  SetStream(stream, *request.mutable_stream());
  request.mutable_tags()->insert(tags.begin(), tags.end());
  v1::AddTagsResponse response;
  return rpc_->Call(&v1::Riffle::Stub::AddTagsToStream, request, response);
}

Status Client::RemoveTagsFromStream(const std::string& stream,
                                    const std::vector<std::string>& keys) {
  v1::RemoveTagsRequest request;
  SetStream(stream, *request.mutable_stream());
  request.mutable_tag_keys()->Add(keys.begin(), keys.end());
  v1::RemoveTagsResponse response;
  return rpc_->Call(&v1::Riffle::Stub::RemoveTagsFromStream, request, response);
}

StatusOr<std::map<std::string, std::string>> Client::ListTagsForStream(const std::string& stream) {
  std::map<std::string, std::string> out;
  v1::ListTagsRequest request;
  SetStream(stream, *request.mutable_stream());
  while (true) {
    v1::ListTagsResponse response;
    RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::ListTagsForStream, request, response));
    for (const v1::Tag& tag : response.tags()) {
      out[tag.key()] = tag.value();
    }
    if (!response.has_more_tags() || response.tags().empty()) {
      return out;
    }
    request.set_exclusive_start_tag_key(response.tags().rbegin()->key());
  }
}

Status Client::SplitShard(const std::string& stream, const std::string& shard_to_split,
                          const std::string& new_starting_hash_key) {
  v1::SplitShardRequest request;
  SetStream(stream, *request.mutable_stream());
  request.set_shard_to_split(shard_to_split);
  request.set_new_starting_hash_key(new_starting_hash_key);
  v1::SplitShardResponse response;
  return rpc_->Call(&v1::Riffle::Stub::SplitShard, request, response);
}

Status Client::MergeShards(const std::string& stream, const std::string& shard_to_merge,
                           const std::string& adjacent_shard_to_merge) {
  v1::MergeShardsRequest request;
  SetStream(stream, *request.mutable_stream());
  request.set_shard_to_merge(shard_to_merge);
  request.set_adjacent_shard_to_merge(adjacent_shard_to_merge);
  v1::MergeShardsResponse response;
  return rpc_->Call(&v1::Riffle::Stub::MergeShards, request, response);
}

StatusOr<UpdateShardCountResult> Client::UpdateShardCount(const std::string& stream,
                                                          int32_t target_shard_count,
                                                          ScalingType scaling_type) {
  v1::UpdateShardCountRequest request;
  SetStream(stream, *request.mutable_stream());
  request.set_target_shard_count(target_shard_count);
  switch (scaling_type) {
    case ScalingType::kUniformScaling:
      request.set_scaling_type(v1::UNIFORM_SCALING);
      break;
  }
  v1::UpdateShardCountResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::UpdateShardCount, request, response));
  return UpdateShardCountResult{
      .stream_name = std::move(*response.mutable_stream_name()),
      .stream_arn = std::move(*response.mutable_stream_arn()),
      .current_shard_count = response.current_shard_count(),
      .target_shard_count = response.target_shard_count(),
  };
}

StatusOr<Consumer> Client::RegisterStreamConsumer(const std::string& stream,
                                                  const std::string& consumer_name) {
  v1::RegisterStreamConsumerRequest request;
  RIFFLE_ASSIGN_OR_RETURN(*request.mutable_stream_arn(), rpc_->StreamArn(stream));
  request.set_consumer_name(consumer_name);
  v1::RegisterStreamConsumerResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::RegisterStreamConsumer, request, response));
  return FromProto(*response.mutable_consumer());
}

Status Client::DeregisterStreamConsumer(const std::string& stream, const std::string& consumer) {
  v1::DeregisterStreamConsumerRequest request;
  RIFFLE_RETURN_IF_ERROR(rpc_->SetConsumer(stream, consumer, *request.mutable_consumer()));
  v1::DeregisterStreamConsumerResponse response;
  return rpc_->Call(&v1::Riffle::Stub::DeregisterStreamConsumer, request, response);
}

StatusOr<Consumer> Client::DescribeStreamConsumer(const std::string& stream,
                                                  const std::string& consumer) {
  v1::DescribeStreamConsumerRequest request;
  RIFFLE_RETURN_IF_ERROR(rpc_->SetConsumer(stream, consumer, *request.mutable_consumer()));
  v1::DescribeStreamConsumerResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::DescribeStreamConsumer, request, response));
  return FromProto(*response.mutable_consumer());
}

namespace {

v1::ConsumerGroupRef GroupRefOf(const std::string& stream, const std::string& group) {
  v1::ConsumerGroupRef ref;
  SetStream(stream, *ref.mutable_stream());
  ref.set_group_name(group);
  return ref;
}

}  // namespace

Status Client::CreateConsumerGroup(const std::string& stream, const std::string& group,
                                   const IteratorPosition& start) {
  v1::CreateConsumerGroupRequest request;
  *request.mutable_group() = GroupRefOf(stream, group);
  request.set_starting_position(IteratorTypeToProto(start.type));
  if (start.type == IteratorType::kAtTimestamp) {
    request.set_timestamp_ms(start.timestamp_ms);
  }
  v1::CreateConsumerGroupResponse response;
  return rpc_->Call(&v1::Riffle::Stub::CreateConsumerGroup, request, response);
}

Status Client::DeleteConsumerGroup(const std::string& stream, const std::string& group) {
  v1::DeleteConsumerGroupRequest request;
  *request.mutable_group() = GroupRefOf(stream, group);
  v1::DeleteConsumerGroupResponse response;
  return rpc_->Call(&v1::Riffle::Stub::DeleteConsumerGroup, request, response);
}

StatusOr<ConsumerGroup> Client::DescribeConsumerGroup(const std::string& stream,
                                                      const std::string& group) {
  v1::DescribeConsumerGroupRequest request;
  *request.mutable_group() = GroupRefOf(stream, group);
  v1::DescribeConsumerGroupResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::DescribeConsumerGroup, request, response));
  ConsumerGroup out{.group_name = response.group_name(),
                    .stream_name = response.stream_name(),
                    .creation_time_ms = response.creation_time_ms()};
  for (const v1::ConsumerGroupShard& shard : response.shards()) {
    out.shards.push_back(GroupShard{
        .shard_id = shard.shard_id(),
        .parent_shard_ids = {shard.parent_shard_ids().begin(), shard.parent_shard_ids().end()},
        .checkpoint = shard.checkpoint(),
        .closed = shard.closed(),
        .finished = shard.finished(),
        .lease_owner = shard.lease_owner(),
        .lease_expires_ms = shard.lease_expires_ms(),
        .lease_counter = shard.lease_counter(),
        .lag_records = shard.lag_records(),
        .lag_ms = shard.lag_ms()});
  }
  return out;
}

StatusOr<ShardLease> Client::LeaseShard(const std::string& stream, const std::string& group,
                                        const std::string& shard_id, const std::string& owner,
                                        std::chrono::milliseconds duration, LeaseMode mode) {
  v1::LeaseShardRequest request;
  *request.mutable_group() = GroupRefOf(stream, group);
  request.set_shard_id(shard_id);
  request.set_owner(owner);
  request.set_lease_duration_ms(duration.count());
  request.set_steal(mode == LeaseMode::kSteal);
  v1::LeaseShardResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::LeaseShard, request, response));
  return ShardLease{.shard_id = response.shard_id(),
                    .lease_counter = response.lease_counter(),
                    .lease_expires_ms = response.lease_expires_ms(),
                    .checkpoint = response.checkpoint()};
}

Status Client::ReleaseShardLease(const std::string& stream, const std::string& group,
                                 const std::string& shard_id, uint64_t lease_counter) {
  v1::ReleaseShardLeaseRequest request;
  *request.mutable_group() = GroupRefOf(stream, group);
  request.set_shard_id(shard_id);
  request.set_lease_counter(lease_counter);
  v1::ReleaseShardLeaseResponse response;
  return rpc_->Call(&v1::Riffle::Stub::ReleaseShardLease, request, response);
}

Status Client::Checkpoint(const std::string& stream, const std::string& group,
                          const std::string& shard_id, uint64_t lease_counter,
                          const std::string& sequence_number) {
  v1::CheckpointRequest request;
  *request.mutable_group() = GroupRefOf(stream, group);
  request.set_shard_id(shard_id);
  request.set_lease_counter(lease_counter);
  request.set_sequence_number(sequence_number);
  v1::CheckpointResponse response;
  return rpc_->Call(&v1::Riffle::Stub::Checkpoint, request, response);
}

StatusOr<std::vector<Consumer>> Client::ListStreamConsumers(const std::string& stream) {
  std::vector<Consumer> out;
  v1::ListStreamConsumersRequest request;
  RIFFLE_ASSIGN_OR_RETURN(*request.mutable_stream_arn(), rpc_->StreamArn(stream));
  while (true) {
    v1::ListStreamConsumersResponse response;
    RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::ListStreamConsumers, request, response));
    for (v1::Consumer& consumer : *response.mutable_consumers()) {
      out.push_back(FromProto(consumer));
    }
    if (response.next_token().empty()) {
      return out;
    }
    request.set_next_token(response.next_token());
  }
}

StatusOr<ClusterStatus> Client::DescribeCluster() {
  v1::DescribeClusterRequest request;
  v1::DescribeClusterResponse response;
  RIFFLE_RETURN_IF_ERROR(rpc_->Call(&v1::Riffle::Stub::DescribeCluster, request, response));
  ClusterStatus out{
      .mode = std::move(*response.mutable_mode()),
      .cluster_name = std::move(*response.mutable_cluster_name()),
      .node_id = std::move(*response.mutable_node_id()),
  };
  for (v1::ClusterNodeStatus& node : *response.mutable_nodes()) {
    out.nodes.push_back(ClusterNode{
        .node_id = std::move(*node.mutable_node_id()),
        .grpc_addr = std::move(*node.mutable_grpc_addr()),
        .kinesis_addr = std::move(*node.mutable_kinesis_addr()),
        .is_controller = node.is_controller(),
        .draining = node.draining(),
        .shards_owned = node.shards_owned(),
    });
  }
  for (v1::ClusterShardStatus& shard : *response.mutable_shards()) {
    out.shards.push_back(ClusterShard{
        .stream_name = std::move(*shard.mutable_stream_name()),
        .shard_id = std::move(*shard.mutable_shard_id()),
        .owner = std::move(*shard.mutable_owner()),
        .epoch = shard.epoch(),
        .moving_to = std::move(*shard.mutable_moving_to()),
        .owner_alive = shard.owner_alive(),
        .committed_end = shard.has_committed_end() ? std::optional<uint64_t>(shard.committed_end())
                                                   : std::nullopt,
        .replicas = {shard.replicas().begin(), shard.replicas().end()},
        .in_sync = {shard.in_sync().begin(), shard.in_sync().end()},
    });
  }
  return out;
}

StatusOr<std::unique_ptr<ShardSubscription>> Client::SubscribeToShard(
    const std::string& consumer_arn, const std::string& shard_id,
    const IteratorPosition& position) {
  v1::SubscribeToShardRequest request;
  request.set_consumer_arn(consumer_arn);
  request.set_shard_id(shard_id);
  v1::StartingPosition& start = *request.mutable_starting_position();
  start.set_type(IteratorTypeToProto(position.type));
  start.set_sequence_number(position.sequence_number);
  if (position.type == IteratorType::kAtTimestamp) {
    start.set_timestamp_ms(position.timestamp_ms);
  }
  return rpc_->Subscribe(request);
}

}  // namespace riffle::client
