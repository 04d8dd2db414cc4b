#include "server/cluster/replica_service.h"

#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include "riffle/cluster/v1/replication.grpc.pb.h"

namespace riffle::cluster {
namespace {

grpc::Status ToGrpc(const Status& status) {
  return status.ok() ? grpc::Status::OK
                     : grpc::Status(grpc::StatusCode::UNAVAILABLE, status.ToString());
}

// Calls wait in arrival order for the worker, which applies each run of consecutive Appends
// together (one fsync for all) and each Fence on its own.
class ReplicaService final : public v1::Replication::CallbackService {
 public:
  ReplicaService(Follower& follower, CallGate gate)
      : follower_(follower), gate_(std::move(gate)), worker_([this] { Work(); }) {}

  // gRPC has finished every call before it destroys a service it served.
  ~ReplicaService() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    queued_.notify_all();
    worker_.join();
  }

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const v1::AppendBatch* request,
                                   v1::AppendBatchResponse* response) override {
    return Queue(context, AppendCall{request, response});
  }

  grpc::ServerUnaryReactor* Fence(grpc::CallbackServerContext* context,
                                  const v1::FenceRequest* request,
                                  v1::FenceResponse* response) override {
    return Queue(context, FenceCall{request, response});
  }

 private:
  struct AppendCall {
    const v1::AppendBatch* request;
    v1::AppendBatchResponse* response;
  };
  struct FenceCall {
    const v1::FenceRequest* request;
    v1::FenceResponse* response;
  };
  struct Call {
    grpc::ServerUnaryReactor* reactor;
    std::variant<AppendCall, FenceCall> what;
  };

  grpc::ServerUnaryReactor* Queue(grpc::CallbackServerContext* context,
                                  std::variant<AppendCall, FenceCall> what) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (gate_) {
      if (grpc::Status refused = gate_(*context); !refused.ok()) {
        reactor->Finish(refused);
        return reactor;
      }
    }
    bool was_idle = false;
    {
      std::lock_guard lock(mu_);
      was_idle = queue_.empty();
      queue_.push_back(Call{reactor, what});
    }
    if (was_idle) {
      queued_.notify_one();
    }
    return reactor;
  }

  void Work() {
    pthread_setname_np(pthread_self(), "riffle-replica");
    std::vector<Call> calls;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
          return;
        }
        calls.swap(queue_);
      }
      for (size_t at = 0; at < calls.size();) {
        if (auto* fence = std::get_if<FenceCall>(&calls[at].what)) {
          StatusOr<v1::FenceResponse> result = follower_.Fence(*fence->request);
          if (result.ok()) {
            *fence->response = std::move(result).value();
          }
          calls[at++].reactor->Finish(ToGrpc(result.status()));
          continue;
        }
        size_t end = at;
        std::vector<const v1::AppendRequest*> requests;
        while (end < calls.size() && std::holds_alternative<AppendCall>(calls[end].what)) {
          for (const v1::AppendRequest& request :
               std::get<AppendCall>(calls[end].what).request->appends()) {
            requests.push_back(&request);
          }
          ++end;
        }
        std::vector<StatusOr<v1::AppendResponse>> results = follower_.Append(requests);
        size_t next = 0;
        for (; at < end; ++at) {
          v1::AppendBatchResponse& response = *std::get<AppendCall>(calls[at].what).response;
          for (int i = 0; i < std::get<AppendCall>(calls[at].what).request->appends_size();
               ++i, ++next) {
            v1::AppendResponse& result = *response.add_results();
            if (results[next].ok()) {
              result = std::move(results[next]).value();
            } else {
              result.set_result(v1::AppendResponse::FAILED);
              result.set_error(results[next].status().ToString());
            }
          }
          calls[at].reactor->Finish(grpc::Status::OK);
        }
      }
      calls.clear();
    }
  }

  Follower& follower_;
  const CallGate gate_;
  std::mutex mu_;
  std::condition_variable queued_;
  std::vector<Call> queue_;  // guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  std::thread worker_;       // last: it uses everything above
};

}  // namespace

std::unique_ptr<grpc::Service> NewReplicaService(Follower& follower, CallGate gate) {
  return std::make_unique<ReplicaService>(follower, std::move(gate));
}

}  // namespace riffle::cluster
