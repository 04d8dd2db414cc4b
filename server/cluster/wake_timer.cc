#include "server/cluster/wake_timer.h"

#include <vector>

namespace riffle::cluster {

WakeTimer::WakeTimer() : thread_([this] { Loop(); }) {}

WakeTimer::~WakeTimer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void WakeTimer::RunAfter(std::chrono::milliseconds delay, std::function<void()> wake) {
  {
    std::lock_guard lock(mu_);
    due_.emplace(std::chrono::steady_clock::now() + delay, std::move(wake));
  }
  changed_.notify_all();
}

void WakeTimer::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const auto next = due_.begin()->first;
    if (std::chrono::steady_clock::now() < next) {
      changed_.wait_until(lock, next);
      continue;
    }
    std::vector<std::function<void()>> ready;
    const auto now = std::chrono::steady_clock::now();
    while (!due_.empty() && due_.begin()->first <= now) {
      ready.push_back(std::move(due_.begin()->second));
      due_.erase(due_.begin());
    }
    lock.unlock();
    for (auto& wake : ready) {
      wake();
    }
    lock.lock();
  }
}

}  // namespace riffle::cluster
