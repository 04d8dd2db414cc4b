// Kinesis operations over AWS JSON 1.1: decodes the request body into broker types, calls the
// broker, encodes the result. The transport (http1_session.cc, http2_session.cc) hands each
// request here; the operations themselves live in *_operations.cc by concern.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/broker/broker.h"

namespace riffle::kinesis_http {

class JsonObject;

inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";

struct Reply {
  int http_status = 200;
  std::string body;        // JSON or CBOR, possibly empty
  std::string error_type{};  // the bare Kinesis code for x-amzn-ErrorType; empty on success
  std::string error_message{};  // for the logs; the body carries it to the client
  std::string_view content_type = kJsonContentType;
};

// Runs a closure on the thread of the connection a request came on.
using Executor = std::function<void(std::function<void()>)>;

// One request. `caller` is who sent it, or why it could not be authenticated
// (authentication.h); `target` and `content_type` are its headers; `body` may be
// modified (padding for the parser, or replaced by its JSON form) and need not outlive the
// call. A CBOR request gets a CBOR reply. Checks come in the order AWS makes them, so the same
// bad request gets the same error: the body must be an object, the target an operation, then
// the credentials, then the operation's own validation. `done` runs once, either before
// Dispatch returns or, for the writes, later through `executor` once the commit pipeline has
// made them durable.
void Dispatch(broker::Broker& broker, const StatusOr<broker::RequestContext>& caller,
              std::string_view target, std::string_view content_type, std::string& body,
              const Executor& executor, std::function<void(Reply)> done);

// Whether a Content-Type names the CBOR variant of the protocol.
bool IsCbor(std::string_view content_type);
// Replaces a CBOR body by the JSON it stands for; JSON bodies are left alone.
Status BodyAsJson(std::string_view content_type, std::string& body);

// The stream a request names: StreamName, or the stream of StreamARN, ConsumerARN or
// ResourceARN; empty if none.
std::string StreamNamedIn(const JsonObject& request);

// OK when the caller's key (if any) may run `operation` on `stream` (StreamNamedIn);
// AccessDeniedException otherwise.
Status AuthorizeOperation(const broker::RequestContext& ctx, std::string_view operation,
                          std::string_view stream);

// The error reply for `status`: HTTP status, `__type` and `message`, in the request's format.
Reply ErrorReply(const Status& status, std::string_view content_type = kJsonContentType);

inline constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
inline constexpr std::string_view kSubscribeToShardTarget = "Kinesis_20131202.SubscribeToShard";

// SubscribeToShard streams its answer, so the transport runs it: this decodes and validates the
// request and says where the subscription starts...
StatusOr<broker::Subscription> StartSubscription(broker::Broker& broker,
                                                 const broker::RequestContext& ctx,
                                                 std::string& body);
// ...and this is the JSON payload of each SubscribeToShardEvent message.
std::string SubscriptionEventJson(const broker::SubscriptionEvent& event);

}  // namespace riffle::kinesis_http
