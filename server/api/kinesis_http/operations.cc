#include "server/api/kinesis_http/operations.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include <fmt/format.h>

#include "server/api/kinesis_http/cbor.h"
#include "server/auth/credentials.h"
#include "server/api/kinesis_http/error_map.h"
#include "server/api/kinesis_http/json.h"
#include "server/api/kinesis_http/operation_handlers.h"

namespace riffle::kinesis_http {
namespace {

using broker::Broker;
using broker::RequestContext;

const HandlerMap& Handlers() {
  static const HandlerMap* handlers = [] {
    auto* all = new HandlerMap;
    AddStreamOperations(*all);
    AddRecordOperations(*all);
    AddConsumerOperations(*all);
    return all;
  }();
  return *handlers;
}

}  // namespace

Reply ErrorReply(const Status& status, std::string_view content_type) {
  Reply reply;
  reply.http_status = HttpStatusFor(status.code());
  reply.error_type = std::string(KinesisName(status.code()));
  reply.error_message = status.message();
  JsonWriter out;
  // AWS's deserializer capitalises the member of the errors it raises itself; every other
  // error carries "message". Clients read either.
  const bool from_deserializer = status.code() == ErrorCode::kSerialization;
  out.BeginObject()
      .Member("__type", reply.error_type)
      .Member(from_deserializer ? "Message" : "message", status.message())
      .EndObject();
  reply.body = out.Take();
  if (IsCbor(content_type)) {
    reply.body = JsonToCbor(reply.body);
    reply.content_type = kCborContentType;
  }
  return reply;
}

std::string StreamNamedIn(const JsonObject& request) {
  std::string stream = request.String("StreamName").value_or("");
  for (std::string_view arn_member : {"StreamARN", "ConsumerARN", "ResourceARN"}) {
    if (stream.empty()) {
      stream = auth::StreamNameFromArn(request.String(arn_member).value_or(""));
    }
  }
  return stream;
}

Status AuthorizeOperation(const RequestContext& ctx, std::string_view operation,
                          std::string_view stream) {
  return auth::Authorize(ctx.caller.get(), operation, stream, ctx.region);
}

bool IsCbor(std::string_view content_type) {
  return content_type.starts_with(kCborContentType);
}

Status BodyAsJson(std::string_view content_type, std::string& body) {
  if (!IsCbor(content_type) || body.empty()) {
    return Status();  // an empty body is judged with the target, as for JSON
  }
  RIFFLE_ASSIGN_OR_RETURN(body, CborToJson(body));
  return Status();
}

namespace {

void DispatchJson(Broker& broker, const StatusOr<RequestContext>& caller,
                  std::string_view target, std::string& body, const Executor& executor,
                  std::function<void(Reply)> done);

}  // namespace

void Dispatch(Broker& broker, const StatusOr<RequestContext>& caller, std::string_view target,
              std::string_view content_type, std::string& body, const Executor& executor,
              std::function<void(Reply)> done) {
  if (!IsCbor(content_type)) {
    DispatchJson(broker, caller, target, body, executor, std::move(done));
    return;
  }
  if (Status decoded = BodyAsJson(content_type, body); !decoded.ok()) {
    done(ErrorReply(decoded, content_type));
    return;
  }
  DispatchJson(broker, caller, target, body, executor,
               [done = std::move(done)](Reply reply) {
                 reply.body = JsonToCbor(reply.body);
                 reply.content_type = kCborContentType;
                 done(std::move(reply));
               });
}

namespace {

void DispatchJson(Broker& broker, const StatusOr<RequestContext>& caller,
                  std::string_view target, std::string& body, const Executor& executor,
                  std::function<void(Reply)> done) {
  const bool kinesis_target = target.substr(0, kTargetPrefix.size()) == kTargetPrefix;
  const std::string_view op = kinesis_target ? target.substr(kTargetPrefix.size()) : "";
  const auto& handlers = Handlers();
  const auto it = handlers.find(op);
  const auto& async_handlers = AsyncHandlers();
  const auto async_it = async_handlers.find(op);
  const bool known = it != handlers.end() || async_it != async_handlers.end();
  auto unknown_operation = [&] {
    if (!kinesis_target) {
      return ErrorReply(Status(ErrorCode::kUnknownOperation,
                               "The X-Amz-Target header must name a Kinesis_20131202 operation."));
    }
    return ErrorReply(Status(ErrorCode::kUnknownOperation, "Unknown operation " + std::string(op)));
  };
  JsonDocument doc;
  if (Status parsed = doc.Parse(body); !parsed.ok()) {
    // An empty body to an unknown target is an unknown operation; any other bad body is a
    // SerializationException whatever the target.
    const bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
    done(blank && !known ? unknown_operation() : ErrorReply(parsed));
    return;
  }
  if (!known) {
    done(unknown_operation());
    return;
  }
  if (!caller.ok()) {
    done(ErrorReply(caller.status()));
    return;
  }
  const RequestContext& ctx = *caller;
  JsonObject root = doc.root();
  const std::string stream = StreamNamedIn(root);
  Status allowed = AuthorizeOperation(ctx, op, stream);
  if (allowed.ok()) {
    allowed = broker.AdmitCall(ctx, op, stream);
  }
  if (!allowed.ok()) {
    done(ErrorReply(allowed));
    return;
  }
  auto respond = [done = std::move(done)](StatusOr<std::string> result) {
    done(result.ok() ? Reply{.http_status = 200, .body = std::move(result).value()}
                     : ErrorReply(result.status()));
  };
  if (async_it != async_handlers.end()) {
    async_it->second(broker, ctx, root, doc.error(), executor, std::move(respond));
  } else {
    respond(it->second(broker, ctx, root, doc.error()));
  }
}

}  // namespace

}  // namespace riffle::kinesis_http
