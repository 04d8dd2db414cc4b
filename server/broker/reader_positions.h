// Where the readers of one shard are, so the metrics can say how far behind the furthest one is
// and keep saying it while nobody reads (an iterator age that stays 0 when a consumer stops
// would hide exactly the failure its alert is for).
//
// Iterator readers are anonymous (an iterator is a signed position), so a reader is known by
// the position its iterator points at: GetShardIterator adds a reader there, and GetRecords
// moves one from where it read to where its next iterator points. A reader counts until its
// iterator expires unused: after that it cannot read on without a new iterator, which counts
// it again. Registered consumers are known by name and count while they are registered.
//
// Thread-safe. One per shard; a few map entries per active reader.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"

namespace riffle::broker {

class ReaderPositions {
 public:
  // An iterator was handed out at `offset` at `now_ms`.
  void IteratorIssued(uint64_t offset, int64_t now_ms);
  // A GetRecords call read from `from` and handed out the next iterator at `next` (nullopt at
  // the end of a closed shard, where the reader is done).
  void IteratorAdvanced(uint64_t from, std::optional<uint64_t> next, int64_t now_ms);
  // The lowest position of an iterator used or handed out less than `lifetime_ms` ago; nullopt
  // when there is none. Forgets the expired ones.
  std::optional<uint64_t> FurthestBehindIterator(int64_t now_ms, int64_t lifetime_ms);
  // The readers FurthestBehindIterator() last counted (iterators used or handed out within
  // their lifetime).
  uint64_t IteratorReaders();

  // A registered consumer's subscription will next send the record at `offset` (at `now_ms`).
  void ConsumerAt(std::string_view consumer, uint64_t offset, int64_t now_ms);
  // Each consumer's position. `registered` lists the consumers the stream still has; the others
  // are forgotten, and so are those not seen for `ttl_ms` (0: no limit).
  std::vector<std::pair<std::string, uint64_t>> Consumers(
      const std::vector<std::string>& registered, int64_t now_ms, int64_t ttl_ms);

 private:
  struct Readers {
    uint32_t count = 0;
    int64_t last_used_ms = 0;
  };
  // A bound, so clients that take many iterators and never read cannot grow it without limit:
  // past it the highest position is forgotten, never the furthest behind.
  static constexpr size_t kMaxIteratorPositions = 64;

  void AddLocked(uint64_t offset, int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  std::map<uint64_t, Readers> iterators_ ABSL_GUARDED_BY(mu_);  // by position
  struct Consumer {
    uint64_t offset = 0;
    int64_t seen_ms = 0;
  };
  std::map<std::string, Consumer, std::less<>> consumers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace riffle::broker
