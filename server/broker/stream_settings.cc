// Stream settings: tags, enhanced monitoring, encryption, stream mode, maximum record size.
#include <set>

#include <fmt/format.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

using storage::StreamMeta;

const std::vector<std::string_view> kMetricNames = {"IncomingBytes",
                                                    "IncomingRecords",
                                                    "OutgoingBytes",
                                                    "OutgoingRecords",
                                                    "WriteProvisionedThroughputExceeded",
                                                    "ReadProvisionedThroughputExceeded",
                                                    "IteratorAgeMilliseconds",
                                                    "ALL"};

std::vector<std::string> ExpandMetrics(const std::vector<std::string>& requested) {
  std::set<std::string> out;
  for (const std::string& metric : requested) {
    if (metric == "ALL") {
      for (std::string_view name : kMetricNames) {
        if (name != "ALL") {
          out.emplace(name);
        }
      }
    } else {
      out.insert(metric);
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace

Status BrokerImpl::AddTagsToStream(const RequestContext& ctx, const AddTagsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  if (v.Required(req.tags.has_value(), "tags")) {
    v.TagMap(*req.tags, "tags", 1, 200);
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  MutexLock control(&stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(CheckTagCharacters(
      TagTexts(*req.tags),
      fmt::format("add tags to stream {} under account {}", meta.name, ctx.account)));
  if (meta.status == "CREATING" || meta.status == "DELETING") {
    return RequireActive(ctx, meta);
  }
  for (const auto& [key, value] : *req.tags) {
    meta.tags[key] = value;
  }
  if (meta.tags.size() > kMaxTagsPerStream) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Failed to add tags to stream {} under account {} because a given "
                              "stream cannot have more than {} tags associated with it.",
                              meta.name, ctx.account, kMaxTagsPerStream));
  }
  return CommitMeta(*stream, std::move(meta));
}

Status BrokerImpl::RemoveTagsFromStream(const RequestContext& ctx, const RemoveTagsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  if (v.Required(req.tag_keys.has_value(), "tagKeys")) {
    v.StringList(*req.tag_keys, "tagKeys", 1, 50, 1, 128);
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  MutexLock control(&stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(CheckTagCharacters(
      std::vector<std::string_view>(req.tag_keys->begin(), req.tag_keys->end()),
      fmt::format("remove tags from stream {} under account {}", meta.name, ctx.account)));
  if (meta.status == "CREATING" || meta.status == "DELETING") {
    return RequireActive(ctx, meta);
  }
  for (const std::string& key : *req.tag_keys) {
    meta.tags.erase(key);  // unknown keys are ignored
  }
  return CommitMeta(*stream, std::move(meta));
}

StatusOr<ListTagsResult> BrokerImpl::ListTagsForStream(const RequestContext& ctx,
                                                       const ListTagsRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Length(req.exclusive_start_tag_key, "exclusiveStartTagKey", 1, 128);
  v.Range(req.limit, "limit", 1, 50);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  StreamMeta meta = stream->Snapshot();
  const size_t limit = static_cast<size_t>(req.limit.value_or(50));
  ListTagsResult out;
  auto it = req.exclusive_start_tag_key ? meta.tags.upper_bound(*req.exclusive_start_tag_key)
                                        : meta.tags.begin();
  for (; it != meta.tags.end(); ++it) {
    if (out.tags.size() == limit) {
      out.has_more_tags = true;
      break;
    }
    out.tags.emplace_back(it->first, it->second);
  }
  return out;
}

StatusOr<EnhancedMonitoringResult> BrokerImpl::ChangeMonitoring(
    const RequestContext& ctx, const EnhancedMonitoringRequest& req, bool enable) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  if (v.Required(req.shard_level_metrics.has_value(), "shardLevelMetrics")) {
    v.Count(req.shard_level_metrics->size(), "shardLevelMetrics", 1, 7);
    for (const std::string& metric : *req.shard_level_metrics) {
      v.Enum(metric, "shardLevelMetrics.member", kMetricNames);
    }
  }
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  MutexLock control(&stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  EnhancedMonitoringResult out;
  out.stream_name = meta.name;
  out.stream_arn = Arn(ctx, meta.name);
  out.current_shard_level_metrics = meta.shard_level_metrics;
  std::vector<std::string> requested = ExpandMetrics(*req.shard_level_metrics);
  std::set<std::string> desired(meta.shard_level_metrics.begin(), meta.shard_level_metrics.end());
  for (const std::string& metric : requested) {
    if (enable) {
      desired.insert(metric);
    } else {
      desired.erase(metric);
    }
  }
  meta.shard_level_metrics.assign(desired.begin(), desired.end());
  out.desired_shard_level_metrics = meta.shard_level_metrics;
  RIFFLE_RETURN_IF_ERROR(CommitMeta(*stream, std::move(meta)));
  return out;
}

StatusOr<EnhancedMonitoringResult> BrokerImpl::EnableEnhancedMonitoring(
    const RequestContext& ctx, const EnhancedMonitoringRequest& req) {
  return ChangeMonitoring(ctx, req, /*enable=*/true);
}

StatusOr<EnhancedMonitoringResult> BrokerImpl::DisableEnhancedMonitoring(
    const RequestContext& ctx, const EnhancedMonitoringRequest& req) {
  return ChangeMonitoring(ctx, req, /*enable=*/false);
}

Status BrokerImpl::ChangeEncryption(const RequestContext& ctx, const EncryptionRequest& req,
                                    bool start) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.encryption_type.has_value(), "encryptionType");
  v.Enum(req.encryption_type, "encryptionType", {"NONE", "KMS"});
  v.Required(req.key_id.has_value(), "keyId");
  v.Length(req.key_id, "keyId", 1, 2048);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  if (*req.encryption_type != "KMS") {
    return Status(
        ErrorCode::kInvalidArgument,
        fmt::format("Invalid EncryptionType {}. Only KMS is supported.", *req.encryption_type));
  }
  MutexLock control(&stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  // The setting is recorded and reported; Riffle never calls a KMS.
  meta.encryption_type = start ? "KMS" : "NONE";
  meta.key_id = start ? *req.key_id : "";
  return CommitMeta(*stream, std::move(meta));
}

Status BrokerImpl::StartStreamEncryption(const RequestContext& ctx, const EncryptionRequest& req) {
  return ChangeEncryption(ctx, req, /*start=*/true);
}

Status BrokerImpl::StopStreamEncryption(const RequestContext& ctx, const EncryptionRequest& req) {
  return ChangeEncryption(ctx, req, /*start=*/false);
}

Status BrokerImpl::UpdateStreamMode(const RequestContext& ctx, const UpdateStreamModeRequest& req) {
  Validator v;
  v.Required(req.stream_arn.has_value(), "streamARN");
  v.Required(req.stream_mode.has_value(), "streamModeDetails.streamMode");
  v.Enum(req.stream_mode, "streamModeDetails.streamMode", kStreamModes);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream,
                          ResolveStream(ctx, StreamRef{std::nullopt, req.stream_arn}));
  MutexLock control(&stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  if (meta.mode == *req.stream_mode) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("Stream {} under account {} is already in {} mode.", meta.name,
                              ctx.account, meta.mode));
  }
  meta.mode = *req.stream_mode;
  if (meta.mode == "PROVISIONED") {
    meta.warm_throughput_mibps = 0;  // warm throughput is an ON_DEMAND setting only
  }
  return CommitMeta(*stream, std::move(meta));
}

Status BrokerImpl::UpdateMaxRecordSize(const RequestContext& ctx,
                                       const UpdateMaxRecordSizeRequest& req) {
  Validator v;
  v.Required(req.stream_arn.has_value(), "streamARN");
  v.Required(req.max_record_size_kib.has_value(), "maxRecordSizeInKiB");
  v.Range(req.max_record_size_kib, "maxRecordSizeInKiB", kMinMaxRecordSizeKiB,
          kMaxMaxRecordSizeKiB);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream,
                          ResolveStream(ctx, StreamRef{std::nullopt, req.stream_arn}));
  MutexLock control(&stream->control_mu);
  StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  meta.max_record_size_kib = static_cast<int32_t>(*req.max_record_size_kib);
  return CommitMeta(*stream, std::move(meta));
}

}  // namespace riffle::broker
