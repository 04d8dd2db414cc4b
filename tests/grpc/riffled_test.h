// RiffledTest: a gtest fixture that starts the real riffled per test (fresh data dir, ports 0)
// and a C++ client for it. TearDown sends SIGTERM and fails the test unless riffled exits 0.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "riffle/client.h"
#include "tests/grpc/riffled_process.h"

namespace riffle::testing {

class RiffledTest : public ::testing::Test {
 protected:
  void SetUp() override { StartRiffled(); }
  void TearDown() override { StopRiffled(); }

  // Flags for riffled; a fixture overrides this to change them.
  virtual RiffledOptions Options() const { return {}; }

  // Starts riffled on data_dir() (again, after StopRiffled or KillRiffled) and connects the
  // client to it. `grpc_port` 0 takes Options()' port.
  void StartRiffled(int grpc_port = 0);
  // SIGTERM; a non-zero exit fails the test. Does nothing if riffled is not running.
  void StopRiffled();
  // SIGKILL, as a crash.
  void KillRiffled();

  client::Client& client() { return *client_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::filesystem::path& scratch_dir() const { return temp_.path(); }
  RiffledProcess& riffled() { return *riffled_; }

  // Creates a stream and waits (deadline 10 s) until it is ACTIVE.
  Status CreateActiveStream(const std::string& stream, const client::CreateStreamOptions& options);
  // Records of one shard from `position` up to the tip.
  StatusOr<std::vector<client::Record>> ReadShard(
      const std::string& stream, const std::string& shard_id,
      const client::IteratorPosition& position = client::IteratorPosition::TrimHorizon());
  // Every shard from TRIM_HORIZON, shard after shard in shard id order.
  StatusOr<std::vector<client::Record>> ReadAll(const std::string& stream);

 private:
  TempDir temp_;
  std::filesystem::path data_dir_ = temp_.path() / "data";
  std::unique_ptr<RiffledProcess> riffled_;
  std::unique_ptr<client::Client> client_;
};

}  // namespace riffle::testing
