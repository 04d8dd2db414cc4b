// Enhanced fan-out: consumers registered on a stream, and the subscriptions that push a shard's

// records to them (SubscribeToShard). Consumers live in the stream's catalog entry.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

constexpr size_t kMaxConsumersPerStream = 20;
constexpr uint64_t kMaxEventBytes = 1024 * 1024;
constexpr uint32_t kMaxEventRecords = 10000;
constexpr int64_t kResubscribeDelayMs = 5000;

// arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<epoch seconds>
struct ParsedConsumerArn {
  std::string stream_arn;
  std::string consumer;
  int64_t created_s = 0;
};

std::optional<ParsedConsumerArn> ParseConsumerArn(std::string_view arn) {
  const size_t marker = arn.find("/consumer/");
  const size_t colon = arn.rfind(':');
  if (marker == std::string_view::npos || colon == std::string_view::npos || colon < marker) {
    return std::nullopt;
  }
  std::string_view name = arn.substr(marker + 10, colon - marker - 10);
  std::string_view seconds = arn.substr(colon + 1);
  if (!IsValidName(name) || seconds.empty() || seconds.size() > 18 ||
      seconds.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return ParsedConsumerArn{std::string(arn.substr(0, marker)), std::string(name),
                           std::stoll(std::string(seconds))};
}

}  // namespace

ConsumerDescription BrokerImpl::DescribeConsumer(const RequestContext& ctx,
                                                 const std::string& stream,
                                                 const storage::ConsumerMeta& consumer) const {
  ConsumerDescription out;
  out.consumer_name = consumer.name;
  out.stream_arn = Arn(ctx, stream);
  out.consumer_arn =
      fmt::format("{}/consumer/{}:{}", out.stream_arn, consumer.name, consumer.created_ms / 1000);
  out.consumer_status = "ACTIVE";  // nothing to wait for: a subscription can start right away
  out.creation_time_ms = consumer.created_ms;
  return out;
}

StatusOr<ConsumerDescription> BrokerImpl::RegisterStreamConsumer(
    const RequestContext& ctx, const RegisterConsumerRequest& req) {
  Validator v;
  v.Required(req.stream_arn.has_value(), "streamARN");
  v.Required(req.consumer_name.has_value(), "consumerName");
  v.Name(req.consumer_name, "consumerName");
  ValidateStreamRef(v, StreamRef{std::nullopt, req.stream_arn});
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream,
                          ResolveStream(ctx, StreamRef{std::nullopt, req.stream_arn}));
  MutexLock control(&stream->control_mu);
  storage::StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  for (const storage::ConsumerMeta& existing : meta.consumers) {
    if (existing.name == *req.consumer_name) {
      return Status(ErrorCode::kResourceInUse,
                    fmt::format("Consumer {} under stream {} already exists for account {}.",
                                existing.name, meta.name, ctx.account));
    }
  }
  if (meta.consumers.size() >= kMaxConsumersPerStream) {
    return Status(ErrorCode::kLimitExceeded,
                  fmt::format("Stream {} under account {} already has {} consumers, the limit.",
                              meta.name, ctx.account, kMaxConsumersPerStream));
  }
  storage::ConsumerMeta consumer{*req.consumer_name, clock_.NowMillis(),
                                 meta.next_consumer_registration++, /*resource_policy=*/""};
  meta.consumers.push_back(consumer);
  const std::string name = meta.name;
  RIFFLE_RETURN_IF_ERROR(CommitMeta(*stream, std::move(meta)));
  spdlog::info("consumer {} registered on stream {}", consumer.name, name);
  return DescribeConsumer(ctx, name, consumer);
}

StatusOr<BrokerImpl::ResolvedConsumer> BrokerImpl::ResolveConsumer(const RequestContext& ctx,
                                                                   const ConsumerRef& ref) const {
  Validator v;
  v.Name(ref.consumer_name, "consumerName");
  v.Length(ref.consumer_arn, "consumerARN", 1, 2048);
  std::optional<ParsedConsumerArn> parsed;
  if (ref.consumer_arn) {
    parsed = ParseConsumerArn(*ref.consumer_arn);
    v.Pattern(ref.consumer_arn, "consumerARN",
              "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/"
              "[a-zA-Z0-9_.-]+:[0-9]+",
              parsed.has_value());
  }
  ValidateStreamRef(v, StreamRef{std::nullopt, ref.stream_arn});
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  if (!parsed && !(ref.stream_arn && ref.consumer_name)) {
    return Status(ErrorCode::kInvalidArgument,
                  "Either ConsumerARN or both StreamARN and ConsumerName must be provided.");
  }
  if (parsed && ((ref.stream_arn && *ref.stream_arn != parsed->stream_arn) ||
                 (ref.consumer_name && *ref.consumer_name != parsed->consumer))) {
    return Status(ErrorCode::kInvalidArgument,
                  "ConsumerARN does not match the StreamARN and ConsumerName given with it.");
  }
  const std::string stream_arn = parsed ? parsed->stream_arn : *ref.stream_arn;
  const std::string consumer_name = parsed ? parsed->consumer : *ref.consumer_name;
  StatusOr<std::shared_ptr<Stream>> stream =
      ResolveStream(ctx, StreamRef{std::nullopt, stream_arn});
  const std::string not_found = fmt::format("Consumer {} under stream {} not found.",
                                            consumer_name, stream_arn);
  if (!stream.ok()) {
    return stream.status().code() == ErrorCode::kResourceNotFound
               ? Status(ErrorCode::kResourceNotFound, not_found)
               : stream.status();
  }
  for (const storage::ConsumerMeta& consumer : (*stream)->Snapshot().consumers) {
    // A consumer ARN names one registration: the same name registered again is another one.
    if (consumer.name == consumer_name &&
        (!parsed || consumer.created_ms / 1000 == parsed->created_s)) {
      return ResolvedConsumer{*stream, consumer};
    }
  }
  return Status(ErrorCode::kResourceNotFound, not_found);
}

Status BrokerImpl::DeregisterStreamConsumer(const RequestContext& ctx, const ConsumerRef& req) {
  RIFFLE_ASSIGN_OR_RETURN(ResolvedConsumer resolved, ResolveConsumer(ctx, req));
  MutexLock control(&resolved.stream->control_mu);
  storage::StreamMeta meta = resolved.stream->Snapshot();
  std::erase_if(meta.consumers, [&](const storage::ConsumerMeta& c) {
    return c.name == resolved.consumer.name && c.created_ms == resolved.consumer.created_ms;
  });
  const std::string name = meta.name;
  RIFFLE_RETURN_IF_ERROR(CommitMeta(*resolved.stream, std::move(meta)));
  spdlog::info("consumer {} deregistered from stream {}", resolved.consumer.name, name);
  return Status();
}

StatusOr<ConsumerDescription> BrokerImpl::DescribeStreamConsumer(const RequestContext& ctx,
                                                                 const ConsumerRef& req) {
  RIFFLE_ASSIGN_OR_RETURN(ResolvedConsumer resolved, ResolveConsumer(ctx, req));
  return DescribeConsumer(ctx, resolved.stream->Snapshot().name, resolved.consumer);
}

StatusOr<ListConsumersResult> BrokerImpl::ListStreamConsumers(const RequestContext& ctx,
                                                              const ListConsumersRequest& req) {
  Validator v;
  v.Required(req.stream_arn.has_value(), "streamARN");
  ValidateStreamRef(v, StreamRef{std::nullopt, req.stream_arn});
  v.Length(req.next_token, "nextToken", 1, 1048576);
  v.Range(req.max_results, "maxResults", 1, 10000);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  if (req.next_token && req.stream_creation_timestamp_ms) {
    return Status(ErrorCode::kInvalidArgument,
                  "NextToken and StreamCreationTimestamp cannot be provided together.");
  }
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream,
                          ResolveStream(ctx, StreamRef{std::nullopt, req.stream_arn}));
  const storage::StreamMeta meta = stream->Snapshot();
  // Pages follow registration order, which meta.consumers keeps. The token names the last
  // consumer returned by its registration number, so a consumer deregistered between pages
  // shifts nothing, even among consumers registered in the same millisecond.
  const std::vector<storage::ConsumerMeta>& consumers = meta.consumers;
  auto first = consumers.begin();
  if (req.next_token) {
    // payload: stream id | last consumer's registration number
    RIFFLE_ASSIGN_OR_RETURN(std::string payload,
                            OpenPageToken(TokenKind::kListConsumers, *req.next_token));
    if (payload.size() != 16 || ReadBigEndian64(payload, 0) != stream->id) {
      return Status(ErrorCode::kInvalidArgument, "Invalid NextToken.");
    }
    const uint64_t last = ReadBigEndian64(payload, 8);
    first = std::find_if(consumers.begin(), consumers.end(),
                         [&](const storage::ConsumerMeta& c) { return c.registration > last; });
  }
  const size_t page = static_cast<size_t>(std::min<int64_t>(req.max_results.value_or(100), 100));
  ListConsumersResult out;
  for (auto it = first; it != consumers.end(); ++it) {
    if (out.consumers.size() == page) {
      const storage::ConsumerMeta& last = *std::prev(it);
      std::string payload;
      AppendBigEndian64(payload, stream->id);
      AppendBigEndian64(payload, last.registration);
      out.next_token = SignPageToken(TokenKind::kListConsumers, payload);
      break;
    }
    out.consumers.push_back(DescribeConsumer(ctx, meta.name, *it));
  }
  return out;
}

StatusOr<Subscription> BrokerImpl::Subscribe(const RequestContext& ctx,
                                             const SubscribeRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  std::string stream;
  StatusOr<Subscription> result = DoSubscribe(ctx, req, stream);
  ReportCall(Operation::kSubscribeToShard, stream, start, result.status().code());
  return result;
}

StatusOr<Subscription> BrokerImpl::DoSubscribe(const RequestContext& ctx,
                                               const SubscribeRequest& req,
                                               std::string& stream_name) {
  Validator v;
  v.Required(req.consumer_arn.has_value(), "consumerARN");
  v.Required(req.shard_id.has_value(), "shardId");
  v.Name(req.shard_id, "shardId");
  if (v.Required(req.starting_position.has_value(), "startingPosition")) {
    v.Required(req.starting_position->type.has_value(), "startingPosition.type");
    v.Enum(req.starting_position->type, "startingPosition.type",
           {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST",
            "AT_TIMESTAMP"});
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(ResolvedConsumer resolved,
                          ResolveConsumer(ctx, ConsumerRef{std::nullopt, std::nullopt,
                                                           req.consumer_arn}));
  const storage::StreamMeta meta = resolved.stream->Snapshot();
  stream_name = meta.name;
  std::optional<uint32_t> ordinal = storage::ParseShardId(*req.shard_id);
  std::shared_ptr<Shard> shard = ordinal ? resolved.stream->shards()->Find(*ordinal) : nullptr;
  if (!shard) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Shard {} in stream {} under account {} does not exist",
                              *req.shard_id, meta.name, ctx.account));
  }
  const StartingPosition& start = *req.starting_position;
  const bool by_sequence =
      *start.type == "AT_SEQUENCE_NUMBER" || *start.type == "AFTER_SEQUENCE_NUMBER";
  if (by_sequence != start.sequence_number.has_value() ||
      (*start.type == "AT_TIMESTAMP" && !start.timestamp_ms)) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("StartingPosition of type {} {} a SequenceNumber{}.", *start.type,
                              by_sequence ? "requires" : "does not take",
                              *start.type == "AT_TIMESTAMP" ? " but a Timestamp" : ""));
  }
  const int64_t now = clock_.NowMillis();
  RIFFLE_ASSIGN_OR_RETURN(uint64_t offset,
                          StartOffset(ctx, meta, *shard, *start.type, start.sequence_number,
                                      start.timestamp_ms, now));
  uint64_t generation = 0;
  {
    // One subscription per consumer and shard: a new one within 5 s of the last is refused,
    // a later one takes over (the older ends at its next event).
    MutexLock lock(&subscriptions_mu_);
    ActiveSubscription& active = subscriptions_[{*req.consumer_arn, shard->meta.ordinal}];
    if (active.generation != 0 && now - active.started_ms < kResubscribeDelayMs) {
      return Status(ErrorCode::kResourceInUse,
                    fmt::format("Another active subscription exists for consumer {} on shard {}; "
                                "a new one may start {} ms after the last.",
                                *req.consumer_arn, shard->shard_id, kResubscribeDelayMs));
    }
    active.started_ms = now;
    generation = ++active.generation;
  }
  shard->readers->ConsumerAt(resolved.consumer.name, offset, now);
  return Subscription{resolved.stream->id, resolved.consumer.name, resolved.consumer.created_ms,
                      shard->meta.ordinal, offset,
                      storage::FormatSequenceNumber(shard->meta.ordinal, offset), generation,
                      *req.consumer_arn, /*forwarded_iterator=*/""};
}

StatusOr<SubscriptionEvent> BrokerImpl::NextEvent(const RequestContext& ctx,
                                                  Subscription& subscription) {
  std::shared_ptr<Stream> stream = FindStreamById(subscription.stream_id);
  const std::shared_ptr<const ShardSet> shards = stream ? stream->shards() : nullptr;
  const std::shared_ptr<Shard> shard = shards ? shards->Find(subscription.shard_ordinal) : nullptr;
  if (!shard) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Shard {} under account {} does not exist any more.",
                              storage::FormatShardId(subscription.shard_ordinal), ctx.account));
  }
  const storage::StreamMeta meta = stream->Snapshot();
  if (std::none_of(meta.consumers.begin(), meta.consumers.end(), [&](const auto& c) {
        return c.name == subscription.consumer_name &&
               c.created_ms == subscription.consumer_created_ms;
      })) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Consumer {} of stream {} under account {} was deregistered.",
                              subscription.consumer_name, meta.name, ctx.account));
  }
  {
    MutexLock lock(&subscriptions_mu_);
    auto it = subscriptions_.find({subscription.consumer_arn, subscription.shard_ordinal});
    if (it != subscriptions_.end() && it->second.generation != subscription.generation) {
      return Status(ErrorCode::kResourceInUse,
                    fmt::format("A newer SubscribeToShard call for consumer {} on shard {} took "
                                "over this subscription.",
                                subscription.consumer_arn, shard->shard_id));
    }
  }
  RIFFLE_ASSIGN_OR_RETURN(
      storage::ReadResult read,
      shard->log->Read(subscription.offset, kMaxEventRecords, kMaxEventBytes));
  const int64_t now = clock_.NowMillis();
  const int64_t retention_cutoff = now - int64_t{meta.retention_hours} * 3600 * 1000;
  SubscriptionEvent event;
  uint64_t bytes = 0;
  for (storage::ReadRecord& r : read.records) {
    if (r.record.arrival_ms < retention_cutoff) {
      continue;
    }
    bytes += r.record.data.size() + r.record.partition_key.size();
    event.records.push_back(Record{storage::FormatSequenceNumber(shard->meta.ordinal, r.offset + 1),
                                   r.record.arrival_ms, std::move(r.record.data),
                                   std::move(r.record.partition_key),
                                   meta.encryption_type == "KMS"
                                       ? std::optional<std::string>("KMS")
                                       : std::nullopt});
  }
  subscription.offset = read.next_offset;
  shard->readers->ConsumerAt(subscription.consumer_name, subscription.offset, now);
  subscription.continuation_sequence_number =
      storage::FormatSequenceNumber(shard->meta.ordinal, read.next_offset);
  const uint64_t end = shard->log->committed_end();
  if (read.next_offset < end && !event.records.empty()) {
    event.millis_behind_latest = std::max<int64_t>(0, now - event.records.back().arrival_time_ms);
  }
  if (observer_ != nullptr) {
    observer_->SubscriptionEventSent(ShardTraffic{meta.name, shard->shard_id,
                                                  !meta.shard_level_metrics.empty(),
                                                  event.records.size(), bytes},
                                     event.millis_behind_latest);
  }
  if (shard->ReadToEnd(read.next_offset)) {
    event.shard_ended = true;
    event.child_shards = ChildShardsOf(*shards, shard->meta.ordinal);
    return event;
  }
  event.continuation_sequence_number = subscription.continuation_sequence_number;
  return event;
}

}  // namespace riffle::broker
