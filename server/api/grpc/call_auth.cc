#include "server/api/grpc/call_auth.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include "server/api/grpc/error_map.h"

namespace riffle::grpc_api {
namespace {

constexpr char kAuthorizationMetadata[] = "authorization";
// The auth context's property holding the PEM of the client's certificate: there only when the
// client presented one and TLS verified it (the server requires and verifies with the CA).
constexpr char kPeerCertificateProperty[] = "x509_pem_cert";

}  // namespace

std::string StreamNamed(const google::protobuf::Message& request) {
  const google::protobuf::Descriptor* descriptor = request.GetDescriptor();
  const google::protobuf::Reflection* reflection = request.GetReflection();
  auto string_field = [&](const char* name) -> std::string {
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(name);
    if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
        field->is_repeated()) {
      return "";
    }
    return reflection->GetString(request, field);
  };
  auto message_field = [&](const char* name) -> const google::protobuf::Message* {
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(name);
    if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE ||
        field->is_repeated() || !reflection->HasField(request, field)) {
      return nullptr;
    }
    return &reflection->GetMessage(request, field);
  };
  for (const char* nested : {"stream", "consumer"}) {
    if (const google::protobuf::Message* ref = message_field(nested)) {
      if (std::string name = StreamNamed(*ref); !name.empty()) {
        return name;
      }
    }
  }
  if (std::string name = string_field("stream_name"); !name.empty()) {
    return name;
  }
  // A StreamRef's own name.
  if (descriptor->name() == "StreamRef") {
    if (std::string name = string_field("name"); !name.empty()) {
      return name;
    }
  }
  for (const char* arn : {"arn", "stream_arn", "consumer_arn", "resource_arn"}) {
    if (std::string name = auth::StreamNameFromArn(string_field(arn)); !name.empty()) {
      return name;
    }
  }
  return "";
}

StatusOr<std::shared_ptr<const auth::AccessKey>> CallerOf(const auth::KeySet& keys,
                                                          const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  if (const auto it = metadata.find(kAuthorizationMetadata); it != metadata.end()) {
    return keys.AuthenticateBearer(std::string_view(it->second.data(), it->second.size()));
  }
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated() &&
      !auth->FindPropertyValues(kPeerCertificateProperty).empty()) {
    const std::vector<grpc::string_ref> names =
        auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
    const std::string common_name =
        names.empty() ? std::string() : std::string(names.front().data(), names.front().size());
    return keys.AuthenticateCertificate(common_name);
  }
  return keys.AuthenticateBearer("");
}

std::function<grpc::Status(grpc::ServerContextBase&)> InternalCallGate(
    const auth::Credentials* credentials) {
  if (credentials == nullptr) {
    return nullptr;
  }
  return [credentials](grpc::ServerContextBase& context) {
    StatusOr<std::shared_ptr<const auth::AccessKey>> key = CallerOf(*credentials->keys(), context);
    if (!key.ok()) {
      return ToGrpcStatus(key.status(), context);
    }
    if (!(*key)->Allows(auth::Permission::kCluster)) {
      return ToGrpcStatus(
          Status(ErrorCode::kAccessDenied,
                 "Key " + (*key)->id +
                     " may not call the cluster's internal services: only the nodes may, with "
                     "a key that has the `cluster` operation."),
          context);
    }
    return grpc::Status::OK;
  };
}

}  // namespace riffle::grpc_api
