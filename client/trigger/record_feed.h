// Where a shard worker's records come from, in the shard's order: GetRecords polls, or a
// SubscribeToShard push subscription through a registered consumer. Both start after a
// checkpoint and start again after one when a read fails.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "riffle/client.h"

namespace riffle::trigger {

class RecordFeed {
 public:
  virtual ~RecordFeed() = default;
  // Up to `max` records, the next in the shard; waits at most about `wait` for any, and returns
  // none when none came. An error ends the feed until Restart().
  virtual StatusOr<std::vector<client::Record>> Next(size_t max,
                                                     std::chrono::milliseconds wait) = 0;
  // True once every record of a closed shard was returned.
  virtual bool ended() const = 0;
  // Reads again from after `checkpoint` (empty: the shard's first record).
  virtual void Restart(const std::string& checkpoint) = 0;
};

// GetRecords: four calls a second while the shard has no backlog (under the five a PROVISIONED
// shard allows; a new record waits 250 ms at most), and the next call at once after a full one.
std::unique_ptr<RecordFeed> NewPollingFeed(client::Client& client, std::string stream,
                                           std::string shard_id, std::string checkpoint);
// SubscribeToShard as `consumer_arn`: records are pushed as they arrive.
std::unique_ptr<RecordFeed> NewSubscriptionFeed(client::Client& client, std::string consumer_arn,
                                                std::string shard_id, std::string checkpoint);

}  // namespace riffle::trigger
