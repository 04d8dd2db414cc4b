// Account settings (DescribeAccountSettings, UpdateAccountSettings) and the on-demand warm
// throughput they allow (UpdateStreamWarmThroughput, CreateStream's WarmThroughputMiBps).
// Riffle bills nothing and does not ramp on-demand capacity: the commitment is kept with the
// rules AWS states for it (a 24-hour minimum, a disable before then is scheduled), and a warm
// throughput target is reached at once.
#include <fmt/format.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

constexpr int64_t kMinimumCommitmentMs = int64_t{24} * 3600 * 1000;
constexpr int64_t kMaxWarmThroughputMiBps = 10 * 1024;  // 10 GiB/s per on-demand stream

std::string AccountKey(const RequestContext& ctx) {
  return std::string(storage::kCatalogAccountPrefix) + ctx.account;
}

AccountSettings ToSettings(const storage::AccountMeta& meta) {
  auto time = [](int64_t ms) { return ms > 0 ? std::optional<int64_t>(ms) : std::nullopt; };
  return AccountSettings{meta.commitment_status, time(meta.commitment_started_ms),
                         time(meta.commitment_ended_ms), time(meta.commitment_earliest_end_ms)};
}

}  // namespace

StatusOr<storage::AccountMeta> BrokerImpl::LoadAccount(const RequestContext& ctx) const {
  RIFFLE_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.GetCatalog(AccountKey(ctx)));
  storage::AccountMeta meta;
  if (value) {
    std::optional<storage::AccountMeta> decoded = storage::DecodeAccountMeta(*value);
    if (!decoded) {
      return Status(ErrorCode::kInternalFailure, "corrupt catalog entry " + AccountKey(ctx));
    }
    meta = std::move(*decoded);
  }
  if (meta.commitment_status == "ENABLED_UNTIL_EARLIEST_ALLOWED_END" &&
      clock_.NowMillis() >= meta.commitment_earliest_end_ms) {
    meta.commitment_status = "DISABLED";
    meta.commitment_ended_ms = meta.commitment_earliest_end_ms;
  }
  return meta;
}

StatusOr<AccountSettings> BrokerImpl::DescribeAccountSettings(const RequestContext& ctx) {
  RIFFLE_ASSIGN_OR_RETURN(storage::AccountMeta meta, LoadAccount(ctx));
  return ToSettings(meta);
}

StatusOr<AccountSettings> BrokerImpl::UpdateAccountSettings(
    const RequestContext& ctx, const UpdateAccountSettingsRequest& req) {
  Validator v;
  v.Required(req.minimum_throughput_billing_commitment.has_value(),
             "minimumThroughputBillingCommitment.status");
  v.Enum(req.minimum_throughput_billing_commitment, "minimumThroughputBillingCommitment.status",
         {"ENABLED", "DISABLED"});
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  MutexLock lock(&account_mu_);
  RIFFLE_ASSIGN_OR_RETURN(storage::AccountMeta meta, LoadAccount(ctx));
  const int64_t now = clock_.NowMillis();
  if (*req.minimum_throughput_billing_commitment == "ENABLED") {
    if (meta.commitment_status == "DISABLED") {
      meta.commitment_started_ms = now;
      meta.commitment_earliest_end_ms = now + kMinimumCommitmentMs;
    }
    // Enabling again before a scheduled end cancels that end.
    meta.commitment_status = "ENABLED";
    meta.commitment_ended_ms = 0;
  } else if (meta.commitment_status != "DISABLED") {
    if (now >= meta.commitment_earliest_end_ms) {
      meta.commitment_status = "DISABLED";
      meta.commitment_ended_ms = now;
    } else {
      meta.commitment_status = "ENABLED_UNTIL_EARLIEST_ALLOWED_END";
    }
  }
  storage::Store::CatalogChange change;
  change.puts.emplace_back(AccountKey(ctx), storage::EncodeAccountMeta(meta));
  RIFFLE_RETURN_IF_ERROR(store_.WriteCatalog(change));
  return ToSettings(meta);
}

Status BrokerImpl::CheckWarmThroughput(const RequestContext& ctx, std::string_view stream,
                                       std::string_view mode, int64_t mibps) const {
  if (mibps > kMaxWarmThroughputMiBps) {
    return Status(ErrorCode::kLimitExceeded,
                  fmt::format("Warm throughput of {} MiBps for stream {} under account {} exceeds "
                              "the limit of {} MiBps.",
                              mibps, stream, ctx.account, kMaxWarmThroughputMiBps));
  }
  if (mode != "ON_DEMAND") {
    return Status(ErrorCode::kValidation,
                  fmt::format("Warm throughput is only supported for streams in ON_DEMAND mode; "
                              "stream {} under account {} is {}.",
                              stream, ctx.account, mode));
  }
  RIFFLE_ASSIGN_OR_RETURN(storage::AccountMeta account, LoadAccount(ctx));
  if (account.commitment_status == "DISABLED") {
    return Status(ErrorCode::kValidation,
                  fmt::format("Warm throughput needs MinimumThroughputBillingCommitment enabled "
                              "for account {} (UpdateAccountSettings).",
                              ctx.account));
  }
  return Status();
}

StatusOr<WarmThroughputResult> BrokerImpl::UpdateStreamWarmThroughput(
    const RequestContext& ctx, const UpdateWarmThroughputRequest& req) {
  Validator v;
  ValidateStreamRef(v, req.stream);
  v.Required(req.warm_throughput_mibps.has_value(), "warmThroughputMiBps");
  v.Range(req.warm_throughput_mibps, "warmThroughputMiBps", 0, INT32_MAX);
  RIFFLE_RETURN_IF_ERROR(v.ToStatus());
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, ResolveStream(ctx, req.stream));
  MutexLock control(&stream->control_mu);
  storage::StreamMeta meta = stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  RIFFLE_RETURN_IF_ERROR(
      CheckWarmThroughput(ctx, meta.name, meta.mode, *req.warm_throughput_mibps));
  meta.warm_throughput_mibps = *req.warm_throughput_mibps;
  WarmThroughputResult out{meta.name, Arn(ctx, meta.name), meta.warm_throughput_mibps,
                           meta.warm_throughput_mibps};
  RIFFLE_RETURN_IF_ERROR(CommitMeta(*stream, std::move(meta)));
  return out;
}

}  // namespace riffle::broker
