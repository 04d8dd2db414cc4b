// Resource policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy. A policy is
// kept verbatim with its stream or consumer in the catalog, so it follows the resource through
// restarts and across a cluster, and goes away with it. Riffle does not evaluate policies: the
// credentials file decides who may do what (docs/security.md).
#include <algorithm>
#include <string_view>

#include <fmt/format.h>
#include <simdjson.h>

#include "server/broker/broker_impl.h"
#include "server/broker/validation.h"

namespace riffle::broker {
namespace {

// The size AWS allows a resource-based policy document.
constexpr size_t kMaxPolicyBytes = 20 * 1024;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// AWS's pattern for a resource ARN, arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+, matched by hand
// (std::regex costs a compile and trips GCC's -Wmaybe-uninitialized under ASan).
bool IsResourceArn(std::string_view arn) {
  constexpr std::string_view kService = ":kinesis:";
  constexpr std::string_view kStream = "stream/";
  if (!arn.starts_with("arn:aws")) {
    return false;
  }
  const size_t service = arn.find(kService, 7);
  if (service == std::string_view::npos) {
    return false;
  }
  for (size_t colon = arn.find(':', service + kService.size()); colon != std::string_view::npos;
       colon = arn.find(':', colon + 1)) {
    const std::string_view account = arn.substr(colon + 1, 12);
    if (account.size() < 12 || account.find_first_not_of("0123456789") != std::string_view::npos ||
        arn.substr(colon + 13, 1) != ":") {
      continue;
    }
    const std::string_view rest = arn.substr(colon + 14);
    for (size_t at = rest.find(kStream); at != std::string_view::npos;
         at = rest.find(kStream, at + 1)) {
      const std::string_view resource = rest.substr(at + kStream.size());
      if (!resource.empty() && std::none_of(resource.begin(), resource.end(), IsSpace)) {
        return true;
      }
    }
  }
  return false;
}

bool IsConsumerArn(const std::string& arn) {
  return arn.find("/consumer/") != std::string::npos;
}

Status InvalidPolicy(std::string_view why) {
  return Status(ErrorCode::kInvalidArgument,
                fmt::format("Policy is not a valid policy document: {}.", why));
}

// One statement needs an effect, a principal and actions, as IAM's grammar has it.
Status CheckStatement(simdjson::dom::element statement) {
  simdjson::dom::object members;
  if (statement.get_object().get(members) != simdjson::SUCCESS) {
    return InvalidPolicy("each Statement must be an object");
  }
  std::string_view effect;
  if (members["Effect"].get_string().get(effect) != simdjson::SUCCESS ||
      (effect != "Allow" && effect != "Deny")) {
    return InvalidPolicy("each Statement needs an Effect of \"Allow\" or \"Deny\"");
  }
  if (members["Principal"].error() != simdjson::SUCCESS &&
      members["NotPrincipal"].error() != simdjson::SUCCESS) {
    return InvalidPolicy("each Statement needs a Principal");
  }
  if (members["Action"].error() != simdjson::SUCCESS &&
      members["NotAction"].error() != simdjson::SUCCESS) {
    return InvalidPolicy("each Statement needs an Action");
  }
  return Status();
}

Status CheckPolicyDocument(const std::string& policy) {
  if (policy.size() > kMaxPolicyBytes) {
    return Status(ErrorCode::kLimitExceeded,
                  fmt::format("Policy of {} bytes exceeds the limit of {} bytes.", policy.size(),
                              kMaxPolicyBytes));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(policy).get(root); error != simdjson::SUCCESS) {
    return InvalidPolicy(fmt::format("it is not JSON ({})", simdjson::error_message(error)));
  }
  simdjson::dom::object document;
  if (root.get_object().get(document) != simdjson::SUCCESS) {
    return InvalidPolicy("it must be a JSON object");
  }
  simdjson::dom::element statements;
  if (document["Statement"].get(statements) != simdjson::SUCCESS) {
    return InvalidPolicy("it has no Statement");
  }
  simdjson::dom::array list;
  if (statements.get_array().get(list) != simdjson::SUCCESS) {
    return CheckStatement(statements);
  }
  if (list.size() == 0) {
    return InvalidPolicy("Statement is empty");
  }
  for (simdjson::dom::element statement : list) {
    RIFFLE_RETURN_IF_ERROR(CheckStatement(statement));
  }
  return Status();
}

// PutResourcePolicy also needs the policy.
Status ValidateRequest(const ResourcePolicyRequest& req, bool needs_policy) {
  Validator v;
  v.Required(req.resource_arn.has_value(), "resourceARN");
  if (needs_policy) {
    v.Required(req.policy.has_value(), "policy");
  }
  v.Length(req.resource_arn, "resourceARN", 1, 2048);
  v.Pattern(req.resource_arn, "resourceARN", "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
            !req.resource_arn || IsResourceArn(*req.resource_arn));
  return v.ToStatus();
}

}  // namespace

StatusOr<BrokerImpl::PolicyOwner> BrokerImpl::ResolvePolicyOwner(
    const RequestContext& ctx, const std::string& resource_arn) const {
  if (IsConsumerArn(resource_arn)) {
    RIFFLE_ASSIGN_OR_RETURN(ResolvedConsumer resolved,
                            ResolveConsumer(ctx, ConsumerRef{std::nullopt, std::nullopt,
                                                             resource_arn}));
    return PolicyOwner{std::move(resolved.stream), std::move(resolved.consumer)};
  }
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream,
                          ResolveStream(ctx, StreamRef{std::nullopt, resource_arn}));
  return PolicyOwner{std::move(stream), std::nullopt};
}

std::string* BrokerImpl::PolicyOwner::PolicyIn(storage::StreamMeta& meta) const {
  if (!consumer) {
    return &meta.resource_policy;
  }
  for (storage::ConsumerMeta& registered : meta.consumers) {
    if (registered.name == consumer->name && registered.created_ms == consumer->created_ms) {
      return &registered.resource_policy;
    }
  }
  return nullptr;  // deregistered meanwhile
}

Status BrokerImpl::StorePolicy(const RequestContext& ctx, const std::string& resource_arn,
                               const std::string& policy) {
  RIFFLE_ASSIGN_OR_RETURN(PolicyOwner owner, ResolvePolicyOwner(ctx, resource_arn));
  MutexLock control(&owner.stream->control_mu);
  storage::StreamMeta meta = owner.stream->Snapshot();
  RIFFLE_RETURN_IF_ERROR(RequireActive(ctx, meta));
  if (std::string* slot = owner.PolicyIn(meta)) {
    *slot = policy;
  }
  return CommitMeta(*owner.stream, std::move(meta));
}

Status BrokerImpl::PutResourcePolicy(const RequestContext& ctx,
                                     const ResourcePolicyRequest& req) {
  RIFFLE_RETURN_IF_ERROR(ValidateRequest(req, /*needs_policy=*/true));
  RIFFLE_RETURN_IF_ERROR(CheckPolicyDocument(*req.policy));
  return StorePolicy(ctx, *req.resource_arn, *req.policy);
}

StatusOr<std::string> BrokerImpl::GetResourcePolicy(const RequestContext& ctx,
                                                    const ResourcePolicyRequest& req) {
  RIFFLE_RETURN_IF_ERROR(ValidateRequest(req, /*needs_policy=*/false));
  RIFFLE_ASSIGN_OR_RETURN(PolicyOwner owner, ResolvePolicyOwner(ctx, *req.resource_arn));
  storage::StreamMeta meta = owner.stream->Snapshot();
  const std::string* policy = owner.PolicyIn(meta);
  return policy == nullptr || policy->empty() ? std::string("{}") : *policy;
}

Status BrokerImpl::DeleteResourcePolicy(const RequestContext& ctx,
                                        const ResourcePolicyRequest& req) {
  RIFFLE_RETURN_IF_ERROR(ValidateRequest(req, /*needs_policy=*/false));
  return StorePolicy(ctx, *req.resource_arn, std::string());
}

}  // namespace riffle::broker
