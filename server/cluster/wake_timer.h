// Runs callbacks once each after a delay, on one thread of its own. A subscription this node
// forwards to the shard's owner cannot wait for the owner's appends; it is woken by this to
// read again instead, without a thread or a timer of its own.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace riffle::cluster {

class WakeTimer {
 public:
  WakeTimer();
  // Drops the callbacks not run yet.
  ~WakeTimer();
  WakeTimer(const WakeTimer&) = delete;
  WakeTimer& operator=(const WakeTimer&) = delete;

  // Runs `wake` once, `delay` from now. It must not block.
  void RunAfter(std::chrono::milliseconds delay, std::function<void()> wake);

 private:
  void Loop();

  std::mutex mu_;  // a leaf: never held while a callback runs
  std::condition_variable changed_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_;
  bool stopping_ = false;
  std::thread thread_;  // last: it uses everything above
};

}  // namespace riffle::cluster
