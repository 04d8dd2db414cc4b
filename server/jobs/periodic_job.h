// Runs a function every `interval` on its own thread until stopped. Used for retention trimming.
// Thread-safe; Stop() is idempotent and the destructor calls it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace riffle::jobs {

class PeriodicJob {
 public:
  PeriodicJob(std::string name, std::chrono::milliseconds interval, std::function<void()> run);
  ~PeriodicJob();
  PeriodicJob(const PeriodicJob&) = delete;
  PeriodicJob& operator=(const PeriodicJob&) = delete;

  // Waits for a run in progress to finish.
  void Stop();

 private:
  const std::string name_;
  const std::chrono::milliseconds interval_;
  std::function<void()> run_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace riffle::jobs
