#include "server/cluster/replica_state.h"

#include <gtest/gtest.h>

namespace riffle::cluster {
namespace {

TEST(ReplicaStateTest, RoundTripsThroughItsEncoding) {
  const ReplicaState state{.fenced_epoch = 7, .committed = 42, .history = {{1, 0}, {3, 17}, {7, 40}}};
  std::optional<ReplicaState> decoded = DecodeReplicaState(EncodeReplicaState(state));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->fenced_epoch, 7u);
  EXPECT_EQ(decoded->committed, 42u);
  EXPECT_EQ(decoded->history, state.history);
  EXPECT_FALSE(DecodeReplicaState("fenced=x").has_value());
  EXPECT_FALSE(DecodeReplicaState("history=1@").has_value());
}

TEST(ReplicaStateTest, EpochAtFollowsTheHistory) {
  const EpochHistory history = {{1, 0}, {3, 10}, {4, 10}, {6, 25}};
  EXPECT_EQ(EpochAt(history, 0), 1u);
  EXPECT_EQ(EpochAt(history, 9), 1u);
  EXPECT_EQ(EpochAt(history, 10), 4u);  // epoch 3 wrote nothing
  EXPECT_EQ(EpochAt(history, 1000), 6u);
  EXPECT_EQ(EpochAt({}, 5), 0u);
}

TEST(ReplicaStateTest, LogsPartWhereTheirEpochsFirstDiffer) {
  // A deposed leader wrote 8.. in epoch 1; the new leader holds 0..8 and opened epoch 2 at 8.
  EXPECT_EQ(FirstDivergence({{1, 0}}, {{1, 0}, {2, 8}}, 10), 8u);
  // Same history: nothing to cut below the shorter end.
  EXPECT_EQ(FirstDivergence({{1, 0}, {2, 8}}, {{1, 0}, {2, 8}}, 12), 12u);
  // The follower has entries of an epoch the leader never saw.
  EXPECT_EQ(FirstDivergence({{1, 0}, {2, 5}}, {{1, 0}, {3, 7}}, 9), 5u);
  // A replica with nothing in common from the start.
  EXPECT_EQ(FirstDivergence({{2, 0}}, {{1, 0}}, 4), 0u);
  EXPECT_EQ(HistoryBelow({{1, 0}, {2, 8}, {3, 12}}, 12), (EpochHistory{{1, 0}, {2, 8}}));
}

}  // namespace
}  // namespace riffle::cluster
