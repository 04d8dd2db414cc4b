#include "server/api/grpc/subscription_reactor.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <grpcpp/server_context.h>

#include "server/api/grpc/convert.h"
#include "server/api/grpc/error_map.h"
#include "server/broker/subscription_pump.h"

namespace riffle::grpc_api {

namespace asio = boost::asio;

// Everything but the gRPC callbacks runs on the runner's thread; the callbacks only post there,
// so no step ever races another. The reactor deletes itself on that thread after OnDone.
class SubscriptionRunner::Reactor final
    : public grpc::ServerWriteReactor<v1::SubscribeToShardEvent> {
 public:
  Reactor(SubscriptionRunner& runner, grpc::CallbackServerContext* context,
          broker::Broker& broker, broker::RequestContext ctx, broker::Subscription subscription)
      : runner_(runner),
        context_(context),
        pump_(broker, std::move(ctx), std::move(subscription), runner.clock(), 0),
        timer_(runner.io()),
        alive_(std::make_shared<bool>(true)) {
    asio::post(runner_.io(), [this] {
      runner_.open().insert(this);
      Step();
    });
  }

  void OnWriteDone(bool ok) override {
    Post([this, ok] {
      writing_ = false;
      if (!ok) {
        End(grpc::Status::CANCELLED);  // the client went away
      } else if (pump_.done()) {
        End(grpc::Status::OK);  // the shard's last event is out
      } else {
        Step();  // an event with records may have left more behind: ask again at once
      }
    });
  }

  void OnCancel() override { Post([this] { End(grpc::Status::CANCELLED); }); }

  void OnDone() override {
    asio::post(runner_.io(), [this] {
      runner_.open().erase(this);
      delete this;
    });
  }

  // Looks for something to send; when there is nothing, waits for an append or the heartbeat.
  void Step() {
    if (ended_ || writing_) {
      return;
    }
    if (runner_.stopping()) {
      End(ToGrpcStatus(Status(ErrorCode::kServiceUnavailable,
                              "riffled is shutting down; subscribe again after the last "
                              "continuation sequence number"),
                       *context_));
      return;
    }
    StatusOr<std::optional<broker::SubscriptionEvent>> event = pump_.Next();
    if (!event.ok()) {
      End(ToGrpcStatus(event.status(), *context_));
      return;
    }
    if (event->has_value()) {
      message_.Clear();
      ToProto(std::move(**event), message_);
      writing_ = true;
      StartWrite(&message_);
      return;
    }
    if (!awaiting_records_) {
      awaiting_records_ = pump_.WaitForRecords([this, alive = std::weak_ptr<bool>(alive_),
                                                io = &runner_.io()] {
        // On the committer's (or a timer's) thread, possibly after the reactor is gone: hand
        // over, never touch the reactor here.
        asio::post(*io, [this, alive] {
          if (alive.lock()) {
            awaiting_records_ = false;
            Wake();
          }
        });
      });
      if (!awaiting_records_) {
        Post([this] { Step(); });  // readable already
        return;
      }
    }
    if (!timer_armed_) {
      timer_armed_ = true;
      timer_.expires_after(std::chrono::milliseconds(pump_.MillisUntilDue()));
      timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const auto&) {
        if (alive.lock()) {
          timer_armed_ = false;
          Step();  // due, or cancelled by a wake-up: look again either way
        }
      });
    }
  }

  void Wake() {
    if (timer_armed_) {
      timer_.cancel();  // its handler steps
    } else {
      Step();
    }
  }

 private:
  // Runs `f` on the runner's thread unless the reactor has gone by then.
  template <typename F>
  void Post(F f) {
    asio::post(runner_.io(), [alive = std::weak_ptr<bool>(alive_), f = std::move(f)]() mutable {
      if (alive.lock()) {
        f();
      }
    });
  }

  void End(const grpc::Status& status) {
    if (ended_) {
      return;
    }
    ended_ = true;
    timer_.cancel();
    Finish(status);
  }

  SubscriptionRunner& runner_;
  grpc::CallbackServerContext* const context_;
  broker::SubscriptionPump pump_;
  v1::SubscribeToShardEvent message_;
  asio::steady_timer timer_;
  // Handlers that may outlive the reactor hold a weak_ptr to this; it dies with the reactor.
  std::shared_ptr<bool> alive_;
  bool writing_ = false;
  bool ended_ = false;
  bool timer_armed_ = false;
  bool awaiting_records_ = false;
};

SubscriptionRunner::SubscriptionRunner(const Clock& clock, const std::atomic<bool>& stopping)
    : clock_(clock),
      stopping_(stopping),
      work_(asio::make_work_guard(io_)),
      thread_([this] { io_.run(); }) {}

SubscriptionRunner::~SubscriptionRunner() {
  work_.reset();  // run() returns once the last reactor has deleted itself
  thread_.join();
}

grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* SubscriptionRunner::Start(
    grpc::CallbackServerContext* context, broker::Broker& broker, broker::RequestContext ctx,
    broker::Subscription subscription) {
  return new Reactor(*this, context, broker, std::move(ctx), std::move(subscription));
}

void SubscriptionRunner::WakeAll() {
  asio::post(io_, [this] {
    for (Reactor* reactor : open_) {
      reactor->Wake();
    }
  });
}

}  // namespace riffle::grpc_api
