// The console's JSON API (docs/console.md): the page's view of the broker. Transport-free, like
// the broker: the HTTP server turns a request into an ApiRequest and writes the ApiResponse back.
//
// Thread-safe: Handle() runs on any number of the server's threads at once. Borrows the Broker,
// which must outlive it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "common/mutex.h"
#include "server/auth/credentials.h"
#include "server/broker/broker.h"
#include "server/console/metrics_history.h"

namespace riffle::console {

struct ApiRequest {
  std::string method;                        // GET | POST | DELETE
  std::string path;                          // "/api/streams/orders"; already URL-decoded
  std::map<std::string, std::string> query;  // URL-decoded
  std::string body;
  // The headers that tell a same-origin request from a cross-site one (CSRF).
  std::string content_type;
  std::string origin;          // absent: empty
  std::string sec_fetch_site;  // absent: empty
  std::string host;            // the Host header, "127.0.0.1:8080"
  std::string authorization;   // "Bearer <key id>:<secret>" with a credentials file; else empty
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // For a download: the file name the browser saves the body as.
  std::string attachment_name;
};

struct ConsoleApiOptions {
  // The longest a live-tail request waits for new records before it answers with none.
  std::chrono::milliseconds max_tail_wait{10'000};
  // How often a waiting tail reads the stream again. Every read is a GetRecords call per shard
  // that counts against a PROVISIONED shard's 5 reads per second, shared with real consumers.
  std::chrono::milliseconds tail_poll_interval{500};
  // Decides whether a request may go on (riffled's credentials file, docs/security.md) and
  // returns the key it was made with, which narrows the stream list to the key's streams. Empty:
  // every request is allowed. Runs after the same-origin check, on the server's threads.
  std::function<StatusOr<std::shared_ptr<const auth::AccessKey>>(const ApiRequest&)> authorize;
  // The recent traffic of every stream, for the charts; null: no charts (the page says so).
  // Borrowed: must outlive the ConsoleApi.
  const MetricsHistory* history = nullptr;
};

class ConsoleApi {
 public:
  ConsoleApi(broker::Broker& broker, ConsoleApiOptions options);

  // Answers one /api/... request. Errors are {"error": "<Kinesis error code>", "message": ...}.
  ApiResponse Handle(const ApiRequest& request);

  // Ends every waiting tail request now and every later one at once: for shutdown.
  void Stop();

 private:
  // Requests that change something must come from the console's own page: refuses the rest.
  static Status CheckSameOrigin(const ApiRequest& request);
  ApiResponse ListStreams(const broker::RequestContext& ctx, const ApiRequest& request);
  ApiResponse StreamMetrics(const std::string& stream, const ApiRequest& request);
  ApiResponse CreateStream(const ApiRequest& request);
  ApiResponse DescribeStream(const std::string& stream);
  ApiResponse DeleteStream(const std::string& stream);
  ApiResponse UpdateShardCount(const std::string& stream, const ApiRequest& request);
  ApiResponse SplitShard(const std::string& stream, const ApiRequest& request);
  ApiResponse MergeShards(const std::string& stream, const ApiRequest& request);
  ApiResponse PutRecord(const std::string& stream, const ApiRequest& request);
  ApiResponse ReadRecords(const std::string& stream, const ApiRequest& request);
  ApiResponse DownloadRecord(const std::string& stream, const std::string& shard_id,
                             const std::string& sequence_number);

  // Waits for `duration` or until Stop(); false once stopped.
  bool WaitUnlessStopped(std::chrono::milliseconds duration);

  broker::Broker& broker_;
  // The console acts as the broker's default account and region, as a local CLI would.
  const broker::RequestContext ctx_;
  const ConsoleApiOptions options_;
  Mutex stop_mu_;
  CondVar stop_cv_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace riffle::console
