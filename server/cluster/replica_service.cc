#include "server/cluster/replica_service.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include "riffle/cluster/v1/replication.grpc.pb.h"

namespace riffle::cluster {
namespace {

class ReplicaService final : public v1::Replication::CallbackService {
 public:
  explicit ReplicaService(Follower& follower) : follower_(follower) {}
  // Waits for the call being worked on; gRPC has finished every call before it destroys
  // a service it served.
  ~ReplicaService() override { worker_.join(); }

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) override {
    return Run(context, [this, request, response] {
      StatusOr<v1::AppendResponse> result = follower_.Append(*request);
      if (result.ok()) {
        *response = std::move(result).value();
      }
      return result.status();
    });
  }

  grpc::ServerUnaryReactor* Fence(grpc::CallbackServerContext* context,
                                  const v1::FenceRequest* request,
                                  v1::FenceResponse* response) override {
    return Run(context, [this, request, response] {
      StatusOr<v1::FenceResponse> result = follower_.Fence(*request);
      if (result.ok()) {
        *response = std::move(result).value();
      }
      return result.status();
    });
  }

 private:
  template <typename Work>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, Work work) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    boost::asio::post(worker_, [reactor, work = std::move(work)]() mutable {
      const Status status = work();
      reactor->Finish(status.ok() ? grpc::Status::OK
                                  : grpc::Status(grpc::StatusCode::UNAVAILABLE, status.ToString()));
    });
    return reactor;
  }

  Follower& follower_;
  boost::asio::thread_pool worker_{1};
};

}  // namespace

std::unique_ptr<grpc::Service> NewReplicaService(Follower& follower) {
  return std::make_unique<ReplicaService>(follower);
}

}  // namespace riffle::cluster
