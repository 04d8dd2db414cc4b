#include "server/jobs/periodic_job.h"

namespace riffle::jobs {

PeriodicJob::PeriodicJob(std::string name, std::chrono::milliseconds interval,
                         std::function<void()> run)
    : name_(std::move(name)), interval_(interval), run_(std::move(run)) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      run_();
      lock.lock();
    }
  });
}

PeriodicJob::~PeriodicJob() { Stop(); }

void PeriodicJob::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace riffle::jobs
