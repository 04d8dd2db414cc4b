// `riffle consumer ...` and `riffle subscribe`: enhanced fan-out over the gRPC API.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <ostream>
#include <thread>
#include <vector>

#include "client/cli/commands.h"
#include "client/cli/start_position.h"
#include "client/util/json_line.h"

namespace riffle::cli {
namespace {

using tools::JsonObject;

// How often subscribe looks at the stop flag: the call itself blocks until the next event, which
// may be 5 s (a heartbeat) away, so a Ctrl-C is noticed here and cancels it.
constexpr std::chrono::milliseconds kStopCheck{20};

std::string ConsumerJson(const client::Consumer& consumer) {
  return JsonObject()
      .AddString("consumer_name", consumer.consumer_name)
      .AddString("consumer_arn", consumer.consumer_arn)
      .AddString("consumer_status", consumer.consumer_status)
      .AddString("created", FormatRfc3339Millis(consumer.creation_time_ms))
      .AddString("stream_arn", consumer.stream_arn)
      .Build();
}

std::string ChildShardsText(const std::vector<client::ChildShard>& children) {
  std::string out;
  for (const client::ChildShard& child : children) {
    out += (out.empty() ? "" : ", ") + child.shard_id;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Status RegisterConsumer(client::Client& client, const Output& output, const std::string& stream,
                        const std::string& consumer_name) {
  RIFFLE_ASSIGN_OR_RETURN(client::Consumer consumer,
                          client.RegisterStreamConsumer(stream, consumer_name));
  if (output.json) {
    output.out << ConsumerJson(consumer) << "\n";
  } else {
    output.out << "registered consumer " << consumer.consumer_name << " on stream " << stream
               << ": " << consumer.consumer_arn << "\n";
  }
  return Status();
}

Status ListConsumers(client::Client& client, const Output& output, const std::string& stream) {
  RIFFLE_ASSIGN_OR_RETURN(std::vector<client::Consumer> consumers,
                          client.ListStreamConsumers(stream));
  if (output.json) {
    for (const client::Consumer& consumer : consumers) {
      output.out << ConsumerJson(consumer) << "\n";
    }
    return Status();
  }
  size_t name_width = 4;
  for (const client::Consumer& consumer : consumers) {
    name_width = std::max(name_width, consumer.consumer_name.size());
  }
  const auto row = [&](const std::string& name, const std::string& status,
                       const std::string& created, const std::string& arn) {
    output.out << name << std::string(name_width - name.size() + 2, ' ') << status
               << std::string(status.size() < 10 ? 10 - status.size() : 1, ' ') << created
               << std::string(created.size() < 26 ? 26 - created.size() : 1, ' ') << arn << "\n";
  };
  row("NAME", "STATUS", "CREATED", "ARN");
  for (const client::Consumer& consumer : consumers) {
    row(consumer.consumer_name, consumer.consumer_status,
        FormatRfc3339Millis(consumer.creation_time_ms), consumer.consumer_arn);
  }
  return Status();
}

Status DescribeConsumer(client::Client& client, const Output& output, const std::string& stream,
                        const std::string& consumer_ref) {
  RIFFLE_ASSIGN_OR_RETURN(client::Consumer consumer,
                          client.DescribeStreamConsumer(stream, consumer_ref));
  if (output.json) {
    output.out << ConsumerJson(consumer) << "\n";
    return Status();
  }
  output.out << "Consumer:    " << consumer.consumer_name << "\n"
             << "ARN:         " << consumer.consumer_arn << "\n"
             << "Status:      " << consumer.consumer_status << "\n"
             << "Created:     " << FormatRfc3339Millis(consumer.creation_time_ms) << "\n"
             << "Stream ARN:  " << consumer.stream_arn << "\n";
  return Status();
}

Status DeregisterConsumer(client::Client& client, const Output& output, const std::string& stream,
                          const std::string& consumer) {
  RIFFLE_RETURN_IF_ERROR(client.DeregisterStreamConsumer(stream, consumer));
  if (output.json) {
    output.out << JsonObject()
                      .AddString("stream_name", stream)
                      .AddString("consumer", consumer)
                      .AddBool("deregistered", true)
                      .Build()
               << "\n";
  } else {
    output.out << "deregistered consumer " << consumer << " from stream " << stream << "\n";
  }
  return Status();
}

Status Subscribe(client::Client& client, const Output& output, const SubscribeArgs& args) {
  RIFFLE_ASSIGN_OR_RETURN(client::IteratorPosition start, ParseStartPosition(args.from));
  std::string consumer_arn = args.consumer;
  if (!consumer_arn.starts_with("arn:")) {
    RIFFLE_ASSIGN_OR_RETURN(client::Consumer consumer,
                            client.DescribeStreamConsumer(args.stream, args.consumer));
    consumer_arn = std::move(consumer.consumer_arn);
  }
  RIFFLE_ASSIGN_OR_RETURN(std::unique_ptr<client::ShardSubscription> subscription,
                          client.SubscribeToShard(consumer_arn, args.shard_id, start));
  // Next() blocks until the server pushes something; this thread turns a stop request into a
  // Cancel(), which a signal handler cannot call.
  std::atomic<bool> over{false};
  std::thread watcher([&] {
    while (!over.load()) {
      if (args.stop != nullptr && args.stop->load()) {
        subscription->Cancel();
        return;
      }
      std::this_thread::sleep_for(kStopCheck);
    }
  });
  client::SubscriptionEvent event;
  while (subscription->Next(event)) {
    for (const client::Record& record : event.records) {
      PrintRecord(output, args.shard_id, record);
    }
    output.out.flush();
    if (event.shard_ended()) {
      output.err << "riffle: " << args.shard_id << " is closed and read to its end; child shards: "
                 << ChildShardsText(event.child_shards) << "\n"
                 << std::flush;
    }
  }
  over.store(true);
  watcher.join();
  return subscription->status();
}

}  // namespace riffle::cli
