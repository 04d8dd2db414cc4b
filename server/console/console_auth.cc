#include "server/console/console_auth.h"

#include <string>
#include <string_view>

namespace riffle::console {
namespace {

// The Kinesis action an API call stands for, by its method and the part of the path after
// /api/streams/<name>.
std::string_view ActionOf(const ApiRequest& request, std::string_view after_stream,
                          bool names_stream) {
  const bool records = after_stream.starts_with("records") || after_stream.starts_with("shards");
  if (request.method == "GET") {
    if (!names_stream) {
      return "ListStreams";
    }
    return records ? "GetRecords" : "DescribeStream";
  }
  if (request.method == "POST" && records) {
    return "PutRecord";
  }
  if (!names_stream) {
    return "CreateStream";
  }
  return request.method == "DELETE" ? "DeleteStream" : "UpdateShardCount";
}

}  // namespace

StatusOr<std::shared_ptr<const auth::AccessKey>> AuthorizeConsoleRequest(
    const auth::KeySet& keys, const ApiRequest& request) {
  RIFFLE_ASSIGN_OR_RETURN(std::shared_ptr<const auth::AccessKey> key,
                          keys.AuthenticateBearer(request.authorization));
  constexpr std::string_view kStreams = "/api/streams/";
  std::string_view path = request.path;
  std::string_view stream;
  std::string_view after_stream;
  if (path.starts_with(kStreams)) {
    path.remove_prefix(kStreams.size());
    const size_t slash = path.find('/');
    stream = path.substr(0, slash);
    after_stream = slash == std::string_view::npos ? "" : path.substr(slash + 1);
  }
  RIFFLE_RETURN_IF_ERROR(auth::Authorize(
      key.get(), ActionOf(request, after_stream, !stream.empty()), stream, "us-east-1"));
  return key;
}

}  // namespace riffle::console
