#include "server/api/grpc/call_auth.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace riffle::grpc_api {

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

}  // namespace riffle::grpc_api
