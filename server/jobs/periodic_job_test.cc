#include "server/jobs/periodic_job.h"

#include <gtest/gtest.h>

#include <atomic>

namespace riffle::jobs {
namespace {

TEST(PeriodicJobTest, RunsRepeatedlyUntilStopped) {
  std::atomic<int> runs{0};
  PeriodicJob job("count", std::chrono::milliseconds(5), [&] { ++runs; });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (runs.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  job.Stop();
  int after_stop = runs.load();
  EXPECT_GE(after_stop, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(runs.load(), after_stop);
}

}  // namespace
}  // namespace riffle::jobs
