#include "server/broker/reader_positions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace riffle::broker {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

constexpr int64_t kLifetime = 300'000;

TEST(ReaderPositionsTest, TheFurthestBehindReaderStaysWhileItsIteratorIsValid) {
  ReaderPositions readers;
  EXPECT_EQ(readers.FurthestBehindIterator(0, kLifetime), std::nullopt);
  readers.IteratorIssued(10, 1'000);  // a reader at 10
  readers.IteratorIssued(50, 1'000);  // another at 50
  readers.IteratorAdvanced(50, 80, 2'000);
  EXPECT_EQ(readers.FurthestBehindIterator(2'000, kLifetime), 10u);
  // The reader at 10 stops: it stays the furthest behind until its iterator expires.
  EXPECT_EQ(readers.FurthestBehindIterator(1'000 + kLifetime - 1, kLifetime), 10u);
  EXPECT_EQ(readers.FurthestBehindIterator(1'000 + kLifetime, kLifetime), 80u);
  EXPECT_EQ(readers.FurthestBehindIterator(2'000 + kLifetime, kLifetime), std::nullopt);
}

TEST(ReaderPositionsTest, TwoReadersAtOnePositionAreTwo) {
  ReaderPositions readers;
  readers.IteratorIssued(5, 0);
  readers.IteratorIssued(5, 0);
  readers.IteratorAdvanced(5, 9, 1);  // one moves on
  EXPECT_EQ(readers.FurthestBehindIterator(1, kLifetime), 5u);
  readers.IteratorAdvanced(5, 9, 2);  // the other too
  readers.IteratorAdvanced(5, 9, 3);  // a retry of the same iterator counts no one down
  EXPECT_EQ(readers.FurthestBehindIterator(3, kLifetime), 9u);
  readers.IteratorAdvanced(9, std::nullopt, 4);  // the end of a closed shard
  readers.IteratorAdvanced(9, std::nullopt, 4);
  readers.IteratorAdvanced(9, std::nullopt, 4);
  EXPECT_EQ(readers.FurthestBehindIterator(4, kLifetime), std::nullopt);
}

TEST(ReaderPositionsTest, IteratorsTakenAndNeverUsedAreBounded) {
  ReaderPositions readers;
  for (uint64_t i = 0; i < 1000; ++i) {
    readers.IteratorIssued(i, static_cast<int64_t>(i));
  }
  // The highest positions went first: the furthest behind is never forgotten for room.
  EXPECT_EQ(readers.FurthestBehindIterator(1000, kLifetime), 0u);
  EXPECT_LE(readers.IteratorReaders(), 64u);
  EXPECT_GT(readers.IteratorReaders(), 0u);
}

TEST(ReaderPositionsTest, ConsumersCountWhileRegistered) {
  ReaderPositions readers;
  readers.ConsumerAt("a", 3, 0);
  readers.ConsumerAt("b", 7, 0);
  readers.ConsumerAt("a", 4, 0);
  EXPECT_THAT(readers.Consumers({"a", "b"}, 1, 0), ElementsAre(Pair("a", 4u), Pair("b", 7u)));
  EXPECT_THAT(readers.Consumers({"b"}, 1, 0), ElementsAre(Pair("b", 7u)));
  EXPECT_THAT(readers.Consumers({"a", "b"}, 1, 0), ElementsAre(Pair("b", 7u)));
  // Without a time limit a stopped consumer stays.
  EXPECT_THAT(readers.Consumers({"b"}, 10'000'000, 0), ElementsAre(Pair("b", 7u)));
}

TEST(ReaderPositionsTest, WithATimeLimitAConsumerThatWentElsewhereIsForgotten) {
  ReaderPositions readers;
  readers.ConsumerAt("moved", 3, 1'000);
  readers.ConsumerAt("here", 5, 1'000);
  readers.ConsumerAt("here", 6, 50'000);
  EXPECT_THAT(readers.Consumers({"moved", "here"}, 60'000, 59'000), ElementsAre(Pair("here", 6u)));
}

}  // namespace
}  // namespace riffle::broker
