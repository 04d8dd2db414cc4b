#include "client/trigger/failure_destination.h"

#include <fstream>
#include <mutex>

namespace riffle::trigger {
namespace {

class StreamDestination final : public FailureDestination {
 public:
  StreamDestination(client::Client& client, std::string stream)
      : client_(client), stream_(std::move(stream)) {}
  Status Send(const std::string& shard_id, const std::string& failure_record) override {
    return client_.PutRecord(stream_, {.data = failure_record, .partition_key = shard_id}).status();
  }

 private:
  client::Client& client_;
  const std::string stream_;
};

class FileDestination final : public FailureDestination {
 public:
  explicit FileDestination(std::string path) : path_(std::move(path)) {}
  Status Send(const std::string& /*shard_id*/, const std::string& failure_record) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::ofstream out(path_, std::ios::app);
    out << failure_record << "\n";
    out.flush();
    if (!out) {
      return Status(ErrorCode::kInternalFailure, "cannot append to " + path_);
    }
    return Status();
  }

 private:
  const std::string path_;
  std::mutex mu_;  // one line at a time
};

// Lambda without a destination: the batch is dropped and the shard goes on.
class NoDestination final : public FailureDestination {
 public:
  Status Send(const std::string& /*shard_id*/, const std::string& /*failure_record*/) override {
    return Status();
  }
};

}  // namespace

StatusOr<std::unique_ptr<FailureDestination>> NewFailureDestination(const std::string& spec,
                                                                    client::Client& client) {
  if (spec.empty()) {
    return std::unique_ptr<FailureDestination>(std::make_unique<NoDestination>());
  }
  if (spec.starts_with("stream:") && spec.size() > 7) {
    return std::unique_ptr<FailureDestination>(
        std::make_unique<StreamDestination>(client, spec.substr(7)));
  }
  if (spec.starts_with("file:") && spec.size() > 5) {
    return std::unique_ptr<FailureDestination>(std::make_unique<FileDestination>(spec.substr(5)));
  }
  return Status(ErrorCode::kValidation,
                "--on-failure takes stream:NAME or file:PATH, not '" + spec + "'");
}

}  // namespace riffle::trigger
