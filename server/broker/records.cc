// Data-plane operations: PutRecord, PutRecords, GetShardIterator, GetRecords.
#include <fmt/format.h>

#include <algorithm>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {

using storage::HashKey;

struct BrokerImpl::Entry {
  const std::string* data = nullptr;
  const std::string* partition_key = nullptr;
  HashKey hash_key = 0;
};

struct BrokerImpl::EntryOutcome {
  Status status;
  std::string shard_id;
  std::string sequence_number;
};

namespace {

HashKey PartitionKeyHash(std::string_view partition_key) {
  std::string digest = Md5(partition_key);
  HashKey h = 0;
  for (unsigned char byte : digest) {
    h = (h << 8) | byte;
  }
  return h;
}

std::string ThrottleMessage(const std::string& shard_id, const std::string& stream,
                            const std::string& account) {
  return fmt::format("Rate exceeded for shard {} in stream {} under account {}.", shard_id,
                     stream, account);
}

Status RequireWritable(const storage::StreamMeta& meta, const std::string& account) {
  if (meta.status == "CREATING") {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Stream {} under account {} not found.", meta.name, account));
  }
  return Status();
}

}  // namespace

Status HashKeyOf(const std::optional<std::string>& explicit_hash_key,
                 const std::string& partition_key, HashKey& out) {
  if (!explicit_hash_key) {
    out = PartitionKeyHash(partition_key);
    return Status();
  }
  std::optional<HashKey> parsed = storage::ParseHashKey(*explicit_hash_key);
  if (!parsed) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                              "[0, 2^128-1]. Specified value was {}",
                              *explicit_hash_key));
  }
  out = *parsed;
  return Status();
}

std::vector<uint64_t> BrokerImpl::EntrySizes(const std::vector<Entry>& entries) {
  std::vector<uint64_t> sizes;
  sizes.reserve(entries.size());
  for (const Entry& entry : entries) {
    sizes.push_back(entry.data->size() + entry.partition_key->size());
  }
  return sizes;
}

bool BrokerImpl::Throttled(const Stream& stream) const {
  if (!options_.shard_quotas) {
    return false;
  }
  MutexLock lock(&stream.mu);
  return stream.meta.mode == "PROVISIONED";
}

void BrokerImpl::Append(const RequestContext& ctx, Stream& stream,
                        const std::vector<Entry>& entries,
                        std::function<void(std::vector<EntryOutcome>)> done) {
  std::vector<EntryOutcome> outcomes(entries.size());
  const int64_t now = clock_.NowMillis();
  const bool throttled = Throttled(stream);
  const storage::StreamMeta meta = stream.Snapshot();
  const std::string& name = meta.name;
  const bool shard_level = !meta.shard_level_metrics.empty();

  // Held until the records are queued, so a reshard never closes a shard under a write.
  ReaderMutexLock append_lock(&stream.append_mu);
  const std::shared_ptr<const ShardSet> shards = stream.shards();
  // Route, then throttle in request order, then group the accepted entries by shard.
  std::map<uint32_t, std::pair<std::shared_ptr<Shard>, std::vector<size_t>>> by_shard;
  for (size_t i = 0; i < entries.size(); ++i) {
    const HashKey h = entries[i].hash_key;
    const std::shared_ptr<Shard>& shard = shards->Route(h);
    if (throttled) {
      const auto size =
          static_cast<double>(entries[i].data->size() + entries[i].partition_key->size());
      MutexLock lock(&shard->quota_mu);
      // Bytes are charged after the check, like reads: a record larger than one second's
      // quota (up to 10 MiB with a raised MaxRecordSizeInKiB) is accepted when the bucket is
      // in credit and pays it back before the next one.
      if (!shard->quotas.write_bytes.HasCredit(now) ||
          !shard->quotas.write_records.TryTake(1, now)) {
        outcomes[i].status = Status(ErrorCode::kProvisionedThroughputExceeded,
                                    ThrottleMessage(shard->shard_id, name, ctx.account));
        stream.throttled_records.fetch_add(1, std::memory_order_relaxed);
        if (observer_ != nullptr) {
          observer_->Throttled(ShardTraffic{name, shard->shard_id, shard_level, 1, 0}, true);
        }
        continue;
      }
      shard->quotas.write_bytes.Charge(size);
    }
    auto& group = by_shard[shard->meta.ordinal];
    group.first = shard;
    group.second.push_back(i);
  }
  if (by_shard.empty()) {
    done(std::move(outcomes));
    return;
  }

  // One atomic append for every shard of the call. Encoding copies the payloads here, on the
  // caller's thread, so the committer only links them into its batch.
  std::vector<storage::ShardAppend> appends;
  appends.reserve(by_shard.size());
  for (auto& [ordinal, group] : by_shard) {
    storage::ShardAppend& append = appends.emplace_back();
    append.log = group.first->log;
    append.values.reserve(group.second.size());
    for (size_t i : group.second) {
      append.values.push_back(
          storage::EncodeRecord(now, *entries[i].partition_key, *entries[i].data));
    }
  }
  auto on_commit = [this, name, shard_level, by_shard = std::move(by_shard),
                    outcomes = std::move(outcomes), sizes = EntrySizes(entries),
                    done = std::move(done)](
                       const Status& written,
                       const std::vector<storage::Reservation>& reservations) mutable {
    size_t group_index = 0;
    for (auto& [ordinal, group] : by_shard) {
      auto& [shard, indices] = group;
      const storage::Reservation& r = reservations[group_index++];
      uint64_t bytes = 0;
      for (size_t k = 0; k < indices.size(); ++k) {
        EntryOutcome& outcome = outcomes[indices[k]];
        if (!written.ok()) {
          // A full disk says so (the operator can act on it); other storage errors stay
          // internal. Record-level codes are AWS's two.
          outcome.status = Status(ErrorCode::kInternalFailure,
                                  written.code() == ErrorCode::kServiceUnavailable
                                      ? written.message()
                                      : "Internal service failure.");
          continue;
        }
        outcome.shard_id = shard->shard_id;
        outcome.sequence_number = storage::FormatSequenceNumber(ordinal, r.first_offset + k + 1);
        bytes += sizes[indices[k]];
      }
      if (written.ok() && observer_ != nullptr) {
        observer_->RecordsWritten(
            ShardTraffic{name, shard->shard_id, shard_level, indices.size(), bytes});
      }
    }
    done(std::move(outcomes));
  };
  store_.pipeline().Submit(std::move(appends), now, std::move(on_commit));
}

bool BrokerImpl::NotifyWhenReadable(const Subscription& subscription, std::function<void()> wake) {
  std::shared_ptr<Stream> stream = FindStreamById(subscription.stream_id);
  const std::shared_ptr<const ShardSet> shards = stream ? stream->shards() : nullptr;
  const std::shared_ptr<Shard> shard = shards ? shards->Find(subscription.shard_ordinal) : nullptr;
  if (!shard || shard->ReadToEnd(subscription.offset)) {
    return false;  // gone or read to its end: NextEvent() reports it
  }
  return shard->log->NotifyWhenPast(subscription.offset, std::move(wake));
}

namespace {

// The stream a request names, for metric labels only.
std::string_view StreamLabel(const StreamRef& ref) {
  if (ref.name) {
    return *ref.name;
  }
  if (ref.arn) {
    std::string_view arn = *ref.arn;
    size_t slash = arn.rfind('/');
    return slash == std::string_view::npos ? arn : arn.substr(slash + 1);
  }
  return {};
}

}  // namespace

std::string BrokerImpl::MetricLabel(std::string_view stream) const {
  return FindStream(std::string(stream)) != nullptr ? std::string(stream) : std::string();
}

void BrokerImpl::ReportCall(Operation operation, std::string_view stream,
                            std::chrono::steady_clock::time_point start, ErrorCode outcome) const {
  if (observer_ != nullptr) {
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    observer_->Call(operation, MetricLabel(stream), elapsed.count(), outcome);
  }
}

void BrokerImpl::PutRecordAsync(const RequestContext& ctx, const PutRecordRequest& req,
                                std::function<void(StatusOr<PutRecordResult>)> done) {
  const uint64_t bytes = (req.data ? req.data->size() : 0) +
                         (req.partition_key ? req.partition_key->size() : 0);
  DoPutRecord(ctx, req,
              [this, start = std::chrono::steady_clock::now(),
               stream = std::string(StreamLabel(req.stream)), bytes,
               done = std::move(done)](StatusOr<PutRecordResult> result) {
                ReportCall(Operation::kPutRecord, stream, start, result.status().code());
                if (result.ok() && observer_ != nullptr) {
                  observer_->PutTallied(Operation::kPutRecord, stream,
                                        PutTally{.successful = 1, .bytes = bytes});
                }
                done(std::move(result));
              });
}

namespace {

// What happened to each record of an answered PutRecords call; `sizes` are the records' sizes.
PutTally TallyOf(const PutRecordsResult& result, const std::vector<uint64_t>& sizes) {
  PutTally tally;
  for (size_t i = 0; i < result.records.size(); ++i) {
    const PutRecordsResultEntry& entry = result.records[i];
    if (!entry.error_code) {
      ++tally.successful;
      tally.bytes += i < sizes.size() ? sizes[i] : 0;
    } else if (*entry.error_code == KinesisName(ErrorCode::kProvisionedThroughputExceeded)) {
      ++tally.throttled;
    } else {
      ++tally.failed;
    }
  }
  return tally;
}

}  // namespace

void BrokerImpl::PutRecordsAsync(const RequestContext& ctx, const PutRecordsRequest& req,
                                 std::function<void(StatusOr<PutRecordsResult>)> done) {
  std::vector<uint64_t> sizes;
  if (req.records) {
    sizes.reserve(req.records->size());
    for (const PutRecordsEntry& entry : *req.records) {
      sizes.push_back((entry.data ? entry.data->size() : 0) +
                      (entry.partition_key ? entry.partition_key->size() : 0));
    }
  }
  DoPutRecords(ctx, req,
               [this, start = std::chrono::steady_clock::now(),
                stream = std::string(StreamLabel(req.stream)), sizes = std::move(sizes),
                done = std::move(done)](StatusOr<PutRecordsResult> result) {
                 ReportCall(Operation::kPutRecords, stream, start, result.status().code());
                 if (result.ok() && observer_ != nullptr) {
                   observer_->PutTallied(Operation::kPutRecords, stream, TallyOf(*result, sizes));
                 }
                 done(std::move(result));
               });
}

StatusOr<GetRecordsResult> BrokerImpl::GetRecords(const RequestContext& ctx,
                                                  const GetRecordsRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  std::string stream;
  StatusOr<GetRecordsResult> result = DoGetRecords(ctx, req, stream);
  ReportCall(Operation::kGetRecords, stream, start, result.status().code());
  return result;
}

Status BrokerImpl::CheckOrderingSequenceNumber(const RequestContext& ctx, const Stream& stream,
                                               const std::string& stream_name,
                                               const std::string& sequence_number) const {
  std::optional<storage::SequencePosition> position =
      storage::ParseSequenceNumber(sequence_number);
  std::shared_ptr<Shard> shard = position ? stream.shards()->Find(position->shard_ordinal)
                                          : nullptr;
  // Position p is the record at offset p - 1: a position past the shard's end names a record
  // that was never written.
  if (shard == nullptr || position->position > shard->log->committed_end()) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("ExclusiveMinimumSequenceNumber {} used in PutRecord on stream {} "
                              "under account {} is invalid.",
                              sequence_number, stream_name, ctx.account));
  }
  return Status();
}

StatusOr<BrokerImpl::PreparedPut> BrokerImpl::PreparePutRecord(const RequestContext& ctx,
                                                                const PutRecordRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.data.has_value(), "data");
  v.BlobLength(req.data, "data", kMaxDataBytes);
  v.Required(req.partition_key.has_value(), "partitionKey");
  v.CharLength(req.partition_key, "partitionKey", 1, kMaxPartitionKeyLength);
  v.Pattern(req.explicit_hash_key, "explicitHashKey", "0|([1-9]\\d{0,38})",
            !req.explicit_hash_key || (IsDecimalInteger(*req.explicit_hash_key) &&
                                       req.explicit_hash_key->size() <= 39));
  v.Pattern(req.sequence_number_for_ordering, "sequenceNumberForOrdering", "0|([1-9]\\d{0,128})",
            !req.sequence_number_for_ordering ||
                (IsDecimalInteger(*req.sequence_number_for_ordering) &&
                 req.sequence_number_for_ordering->size() <= 129));
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  const storage::StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireWritable(meta, ctx.account));
  const size_t record_size = req.data->size() + req.partition_key->size();
  if (record_size > static_cast<size_t>(meta.max_record_size_kib) * 1024) {
    Validator too_big;
    too_big.BlobLength(req.data, "data",
                       static_cast<size_t>(meta.max_record_size_kib) * 1024 -
                           std::min(req.partition_key->size(), size_t{1024}));
    return too_big.ToStatus();
  }
  // Riffle's sequence numbers already grow strictly within a shard, so the ordering hint needs
  // no action once it is known to be a sequence number this stream has given out.
  if (req.sequence_number_for_ordering) {
    RIFFLE_RETURN_IF_ERROR(CheckOrderingSequenceNumber(ctx, *stream, meta.name,
                                                       *req.sequence_number_for_ordering));
  }
  Entry entry{&*req.data, &*req.partition_key, 0};
  RIFFLE_RETURN_IF_ERROR(HashKeyOf(req.explicit_hash_key, *req.partition_key, entry.hash_key));
  return PreparedPut{std::move(stream), meta.encryption_type == "KMS" ? "KMS" : "NONE", {entry}};
}

void BrokerImpl::DoPutRecord(const RequestContext& ctx, const PutRecordRequest& req,
                             std::function<void(StatusOr<PutRecordResult>)> done) {
  StatusOr<PreparedPut> put = PreparePutRecord(ctx, req);
  if (!put.ok()) {
    done(put.status());
    return;
  }
  Append(ctx, *put->stream, put->entries,
         [encryption = put->encryption_type,
          done = std::move(done)](std::vector<EntryOutcome> outcomes) {
           EntryOutcome& outcome = outcomes.front();
           if (!outcome.status.ok()) {
             done(outcome.status);
             return;
           }
           done(PutRecordResult{std::move(outcome.shard_id), std::move(outcome.sequence_number),
                                encryption});
         });
}

StatusOr<BrokerImpl::PreparedPut> BrokerImpl::PreparePutRecords(const RequestContext& ctx,
                                                                 const PutRecordsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  if (v.Required(req.records.has_value(), "records") &&
      v.Count(req.records->size(), "records", 1, kMaxPutRecordsEntries)) {
    for (size_t i = 0; i < req.records->size(); ++i) {
      const PutRecordsEntry& e = (*req.records)[i];
      const std::string path = fmt::format("records.{}.member.", i + 1);
      v.Required(e.data.has_value(), path + "data");
      v.BlobLength(e.data, path + "data", kMaxDataBytes);
      v.Required(e.partition_key.has_value(), path + "partitionKey");
      v.CharLength(e.partition_key, path + "partitionKey", 1, kMaxPartitionKeyLength);
      v.Pattern(e.explicit_hash_key, path + "explicitHashKey", "0|([1-9]\\d{0,38})",
                !e.explicit_hash_key ||
                    (IsDecimalInteger(*e.explicit_hash_key) && e.explicit_hash_key->size() <= 39));
    }
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  const storage::StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireWritable(meta, ctx.account));
  const size_t max_record = static_cast<size_t>(meta.max_record_size_kib) * 1024;
  size_t total = 0;
  std::vector<Entry> entries;
  entries.reserve(req.records->size());
  for (size_t i = 0; i < req.records->size(); ++i) {
    const PutRecordsEntry& e = (*req.records)[i];
    const size_t size = e.data->size() + e.partition_key->size();
    if (size > max_record) {
      Validator too_big;
      too_big.BlobLength(e.data, fmt::format("records.{}.member.data", i + 1),
                         max_record - std::min(e.partition_key->size(), max_record));
      return too_big.ToStatus();
    }
    total += size;
    Entry entry{&*e.data, &*e.partition_key, 0};
    RIFFLE_RETURN_IF_ERROR(HashKeyOf(e.explicit_hash_key, *e.partition_key, entry.hash_key));
    entries.push_back(entry);
  }
  if (total > static_cast<size_t>(options_.max_put_records_bytes)) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Records size exceeds {} MB limit",
                              options_.max_put_records_bytes / (1024 * 1024)));
  }
  return PreparedPut{std::move(stream), meta.encryption_type == "KMS" ? "KMS" : "NONE",
                     std::move(entries)};
}

void BrokerImpl::DoPutRecords(const RequestContext& ctx, const PutRecordsRequest& req,
                              std::function<void(StatusOr<PutRecordsResult>)> done) {
  StatusOr<PreparedPut> put = PreparePutRecords(ctx, req);
  if (!put.ok()) {
    done(put.status());
    return;
  }
  Append(ctx, *put->stream, put->entries,
         [encryption = put->encryption_type,
          done = std::move(done)](std::vector<EntryOutcome> outcomes) {
           PutRecordsResult out;
           out.encryption_type = encryption;
           out.records.reserve(outcomes.size());
           for (EntryOutcome& outcome : outcomes) {
             PutRecordsResultEntry result;
             if (outcome.status.ok()) {
               result.shard_id = std::move(outcome.shard_id);
               result.sequence_number = std::move(outcome.sequence_number);
             } else {
               ++out.failed_record_count;
               // Per-entry codes: ProvisionedThroughputExceededException, or InternalFailure.
               result.error_code =
                   outcome.status.code() == ErrorCode::kProvisionedThroughputExceeded
                       ? std::string(KinesisName(outcome.status.code()))
                       : std::string("InternalFailure");
               result.error_message = outcome.status.message();
             }
             out.records.push_back(std::move(result));
           }
           done(std::move(out));
         });
}

StatusOr<uint64_t> BrokerImpl::StartOffset(const RequestContext& ctx,
                                           const storage::StreamMeta& meta, const Shard& shard,
                                           const std::string& type,
                                           const std::optional<std::string>& sequence_number,
                                           std::optional<int64_t> timestamp_ms,
                                           int64_t now) const {
  uint64_t offset = 0;
  const int64_t retention_cutoff = now - int64_t{meta.retention_hours} * 3600 * 1000;
  if (type == "TRIM_HORIZON") {
    // The oldest record still within retention, even before the trimmer has removed the
    // expired ones.
    RIFFLE_ASSIGN_OR_RETURN(offset, shard.log->FindOffsetAtTime(retention_cutoff));
  } else if (type == "LATEST") {
    offset = shard.log->committed_end();
  } else if (type == "AT_TIMESTAMP") {
    if (*timestamp_ms > now) {
      offset = shard.log->committed_end();  // nothing has arrived at a future time yet
    } else {
      RIFFLE_ASSIGN_OR_RETURN(offset, shard.log->FindOffsetAtTime(*timestamp_ms));
    }
  } else {
    std::optional<storage::SequencePosition> position =
        storage::ParseSequenceNumber(*sequence_number);
    if (!position) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("StartingSequenceNumber {} used in GetShardIterator on shard {} in "
                                "stream {} under account {} is invalid.",
                                *sequence_number, shard.shard_id, meta.name,
                                ctx.account));
    }
    if (position->shard_ordinal != shard.meta.ordinal) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("Invalid StartingSequenceNumber. It encodes {}, while it was used "
                                "in a call to a shard with {}",
                                storage::FormatShardId(position->shard_ordinal), shard.shard_id));
    }
    // Position p is the record at offset p - 1; position 0 is the shard's start.
    offset = type == "AT_SEQUENCE_NUMBER" ? (position->position == 0 ? 0 : position->position - 1)
                                          : position->position;
    offset = std::max(offset, shard.log->trim_offset());
  }
  return offset;
}

std::vector<ChildShard> BrokerImpl::ChildShardsOf(const ShardSet& shards, uint32_t ordinal) {
  std::vector<ChildShard> out;
  for (const auto& child : shards.ChildrenOf(ordinal)) {
    ChildShard c;
    c.shard_id = child->shard_id;
    c.parent_shards.push_back(storage::FormatShardId(*child->meta.parent_ordinal));
    if (child->meta.adjacent_parent_ordinal) {
      c.parent_shards.push_back(storage::FormatShardId(*child->meta.adjacent_parent_ordinal));
    }
    c.hash_key_range.starting_hash_key = storage::FormatHashKey(child->meta.starting_hash_key);
    c.hash_key_range.ending_hash_key = storage::FormatHashKey(child->meta.ending_hash_key);
    out.push_back(std::move(c));
  }
  return out;
}

StatusOr<std::string> BrokerImpl::GetShardIterator(const RequestContext& ctx,
                                                   const GetShardIteratorRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  StatusOr<std::string> result = DoGetShardIterator(ctx, req);
  ReportCall(Operation::kGetShardIterator, NameOf(req.stream), start, result.status().code());
  return result;
}

StatusOr<std::string> BrokerImpl::DoGetShardIterator(const RequestContext& ctx,
                                                     const GetShardIteratorRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.shard_id.has_value(), "shardId");
  v.Name(req.shard_id, "shardId");
  v.Required(req.shard_iterator_type.has_value(), "shardIteratorType");
  v.Enum(req.shard_iterator_type, "shardIteratorType",
         {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"});
  v.Pattern(req.starting_sequence_number, "startingSequenceNumber", "0|([1-9]\\d{0,128})",
            !req.starting_sequence_number || (IsDecimalInteger(*req.starting_sequence_number) &&
                                              req.starting_sequence_number->size() <= 129));
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(uint32_t ordinal, ResolveShardId(ctx, req.stream, *req.shard_id));
  // AWS words a missing stream, like a missing shard, as the shard not existing.
  auto no_such_shard = [&] {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Shard {} in stream {} under account {} does not exist",
                              storage::FormatShardId(ordinal), NameOf(req.stream), ctx.account));
  };
  StatusOr<std::shared_ptr<Stream>> resolved = ResolveStream(ctx, req.stream);
  if (!resolved.ok()) {
    return resolved.status().code() == ErrorCode::kResourceNotFound ? no_such_shard()
                                                                    : resolved.status();
  }
  const std::shared_ptr<Stream> stream = std::move(resolved).value();
  const storage::StreamMeta meta = stream->Snapshot();
  const std::string& type = *req.shard_iterator_type;
  const bool by_sequence = type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER";
  if (by_sequence != req.starting_sequence_number.has_value()) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER "
                              "and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
                              "StartingSequenceNumber. Request specified {} and {} "
                              "StartingSequenceNumber.",
                              type, req.starting_sequence_number ? "also a" : "no"));
  }
  if (type == "AT_TIMESTAMP" && !req.timestamp_ms) {
    return Status(ErrorCode::kInvalidArgument,
                  "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                  "Current request has no timestamp parameter.");
  }
  const std::shared_ptr<Shard> shard = stream->shards()->Find(ordinal);
  if (shard == nullptr || meta.status == "CREATING") {
    return no_such_shard();
  }
  const int64_t now = clock_.NowMillis();
  if (type == "AT_TIMESTAMP" && *req.timestamp_ms > now) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("The timestampInMillis parameter cannot be greater than the "
                              "currentTimestampInMillis. timestampInMillis: {}, "
                              "currentTimestampInMillis: {}",
                              *req.timestamp_ms, now));
  }
  RIFFLE_ASSIGN_OR_RETURN(uint64_t offset,
                          StartOffset(ctx, meta, *shard, type, req.starting_sequence_number,
                                      req.timestamp_ms, now));
  if (options_.shard_quotas) {
    MutexLock lock(&shard->quota_mu);
    if (!shard->quotas.iterator_calls.TryTake(1, now)) {
      return Status(ErrorCode::kProvisionedThroughputExceeded,
                    fmt::format("Rate exceeded for shard {} in stream {} under account {}.",
                                shard->shard_id, meta.name, ctx.account));
    }
  }
  shard->readers->IteratorIssued(offset, now);
  return EncodeIterator(signer_, IteratorPosition{stream->id, shard->meta.ordinal, offset, now});
}

StatusOr<GetRecordsResult> BrokerImpl::DoGetRecords(const RequestContext& ctx,
                                                    const GetRecordsRequest& req,
                                                    std::string& stream_name) {
  Validator v;
  v.Required(req.shard_iterator.has_value(), "shardIterator");
  v.Length(req.shard_iterator, "shardIterator", 1, 512);
  v.Range(req.limit, "limit", 1, kMaxGetRecordsLimit);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  const int64_t now = clock_.NowMillis();
  RIFFLE_ASSIGN_OR_RETURN(
      IteratorPosition position,
      DecodeIterator(signer_, *req.shard_iterator, now, options_.iterator_ttl_ms));
  std::shared_ptr<Stream> stream = FindStreamById(position.stream_id);
  const std::shared_ptr<const ShardSet> shards = stream ? stream->shards() : nullptr;
  const std::shared_ptr<Shard> shard = shards ? shards->Find(position.shard_ordinal) : nullptr;
  if (shard == nullptr) {
    return Status(ErrorCode::kResourceNotFound,
                  fmt::format("Shard {} in stream under account {} does not exist",
                              storage::FormatShardId(position.shard_ordinal), ctx.account));
  }
  const storage::StreamMeta meta = stream->Snapshot();
  stream_name = meta.name;
  // An iterator names its stream only inside: a key may read with it only what it may read.
  RIFFLE_RETURN_IF_ERROR(auth::Authorize(ctx.caller.get(), "GetRecords", meta.name, ctx.region));
  const bool shard_level = !meta.shard_level_metrics.empty();
  if (req.stream_arn) {
    RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> named,
                            ResolveStream(ctx, StreamRef{std::nullopt, req.stream_arn}));
    if (named != stream) {
      return Status(ErrorCode::kInvalidArgument,
                    "The StreamARN does not match the stream of the ShardIterator.");
    }
  }
  const bool throttled = Throttled(*stream);
  if (throttled) {
    MutexLock lock(&shard->quota_mu);
    if (!shard->quotas.read_bytes.HasCredit(now) || !shard->quotas.read_calls.TryTake(1, now)) {
      stream->throttled_reads.fetch_add(1, std::memory_order_relaxed);
      if (observer_ != nullptr) {
        observer_->Throttled(ShardTraffic{meta.name, shard->shard_id, shard_level, 0, 0}, false);
      }
      return Status(ErrorCode::kProvisionedThroughputExceeded,
                    ThrottleMessage(shard->shard_id, meta.name, ctx.account));
    }
  }
  const auto limit = static_cast<uint32_t>(req.limit.value_or(kMaxGetRecordsLimit));
  RIFFLE_ASSIGN_OR_RETURN(storage::ReadResult read,
                          shard->log->Read(position.offset, limit, kMaxGetRecordsBytes));
  // Expired records are invisible from the moment they expire; the trimmer deletes them later.
  const int64_t retention_cutoff = now - int64_t{meta.retention_hours} * 3600 * 1000;
  auto first_live = std::find_if(read.records.begin(), read.records.end(),
                                 [&](const storage::ReadRecord& r) {
                                   return r.record.arrival_ms >= retention_cutoff;
                                 });
  read.records.erase(read.records.begin(), first_live);
  GetRecordsResult out;
  // Records show KMS while the stream's encryption is on (the setting is recorded; Riffle does
  // not call a KMS).
  const std::optional<std::string> encryption_type =
      meta.encryption_type == "KMS" ? std::optional<std::string>("KMS") : std::nullopt;
  uint64_t bytes = 0;
  out.records.reserve(read.records.size());
  for (storage::ReadRecord& r : read.records) {
    bytes += r.record.data.size() + r.record.partition_key.size();
    out.records.push_back(Record{storage::FormatSequenceNumber(shard->meta.ordinal, r.offset + 1),
                                 r.record.arrival_ms, std::move(r.record.data),
                                 std::move(r.record.partition_key), encryption_type});
  }
  if (throttled) {
    MutexLock lock(&shard->quota_mu);
    shard->quotas.read_bytes.Charge(static_cast<double>(bytes));
  }
  const uint64_t end = shard->log->committed_end();
  if (read.next_offset >= end) {
    out.millis_behind_latest = 0;
  } else if (!out.records.empty()) {
    out.millis_behind_latest = std::max<int64_t>(0, now - out.records.back().arrival_time_ms);
  }
  if (observer_ != nullptr) {
    observer_->RecordsRead(
        ShardTraffic{meta.name, shard->shard_id, shard_level, out.records.size(), bytes},
        out.millis_behind_latest);
  }
  if (shard->ReadToEnd(read.next_offset)) {
    // The end of a closed shard: no next iterator, and the children to continue with.
    shard->readers->IteratorAdvanced(position.offset, std::nullopt, now);
    out.child_shards = ChildShardsOf(*shards, shard->meta.ordinal);
    return out;
  }
  shard->readers->IteratorAdvanced(position.offset, read.next_offset, now);
  out.next_shard_iterator = EncodeIterator(
      signer_, IteratorPosition{stream->id, shard->meta.ordinal, read.next_offset, now});
  return out;
}

}  // namespace riffle::broker
