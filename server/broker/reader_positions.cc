#include "server/broker/reader_positions.h"

#include <algorithm>
#include <iterator>

namespace riffle::broker {

void ReaderPositions::AddLocked(uint64_t offset, int64_t now_ms) {
  Readers& readers = iterators_[offset];
  ++readers.count;
  readers.last_used_ms = std::max(readers.last_used_ms, now_ms);
  if (iterators_.size() > kMaxIteratorPositions) {
    iterators_.erase(std::prev(iterators_.end()));
  }
}

void ReaderPositions::IteratorIssued(uint64_t offset, int64_t now_ms) {
  MutexLock lock(&mu_);
  AddLocked(offset, now_ms);
}

void ReaderPositions::IteratorAdvanced(uint64_t from, std::optional<uint64_t> next,
                                       int64_t now_ms) {
  MutexLock lock(&mu_);
  // The same iterator may be read twice (a retry), or have been forgotten: count down only
  // what is there.
  if (auto it = iterators_.find(from); it != iterators_.end() && --it->second.count == 0) {
    iterators_.erase(it);
  }
  if (next) {
    AddLocked(*next, now_ms);
  }
}

std::optional<uint64_t> ReaderPositions::FurthestBehindIterator(int64_t now_ms,
                                                                int64_t lifetime_ms) {
  MutexLock lock(&mu_);
  std::erase_if(iterators_, [&](const auto& entry) {
    return entry.second.last_used_ms <= now_ms - lifetime_ms;
  });
  if (iterators_.empty()) {
    return std::nullopt;
  }
  return iterators_.begin()->first;
}

uint64_t ReaderPositions::IteratorReaders() {
  MutexLock lock(&mu_);
  uint64_t readers = 0;
  for (const auto& [offset, at] : iterators_) {
    readers += at.count;
  }
  return readers;
}

void ReaderPositions::ConsumerAt(std::string_view consumer, uint64_t offset, int64_t now_ms) {
  MutexLock lock(&mu_);
  auto it = consumers_.find(consumer);
  if (it == consumers_.end()) {
    consumers_.emplace(std::string(consumer), Consumer{offset, now_ms});
  } else {
    it->second = Consumer{offset, now_ms};
  }
}

std::vector<std::pair<std::string, uint64_t>> ReaderPositions::Consumers(
    const std::vector<std::string>& registered, int64_t now_ms, int64_t ttl_ms) {
  MutexLock lock(&mu_);
  std::erase_if(consumers_, [&](const auto& entry) {
    return std::find(registered.begin(), registered.end(), entry.first) == registered.end() ||
           (ttl_ms > 0 && entry.second.seen_ms <= now_ms - ttl_ms);
  });
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& [name, consumer] : consumers_) {
    out.emplace_back(name, consumer.offset);
  }
  return out;
}

}  // namespace riffle::broker
