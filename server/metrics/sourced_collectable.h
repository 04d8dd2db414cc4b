// A collectable whose samples are read from a source at each scrape (the cluster's state, the
// lags, the storage health), so they describe that moment: nothing is pushed, and a source that
// stops reporting something (a deleted stream, a node that left) stops its series.
#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace riffle::metrics {

template <typename Snapshot>
class SourcedCollectable : public prometheus::Collectable {
 public:
  // nullptr: no series. Waits for a collection in progress, so the previous source is not
  // called again once this returns.
  void SetSource(std::function<Snapshot()> source) {
    std::lock_guard lock(mu_);
    source_ = std::move(source);
  }

  std::vector<prometheus::MetricFamily> Collect() const final {
    std::lock_guard lock(mu_);  // held across the source's call: SetSource waits for it
    if (!source_) {
      return {};
    }
    return Families(source_());
  }

 protected:
  // The series of one snapshot of the source.
  virtual std::vector<prometheus::MetricFamily> Families(const Snapshot& snapshot) const = 0;

 private:
  mutable std::mutex mu_;
  std::function<Snapshot()> source_;  // guarded by mu_
};

}  // namespace riffle::metrics
