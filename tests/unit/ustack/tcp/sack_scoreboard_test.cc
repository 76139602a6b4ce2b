#include "daemon/ustack/tcp/sack_scoreboard.h"

#include <gtest/gtest.h>

#include <vector>

namespace nslab::ustack::tcp {
namespace {

using Block = packet::TcpSackBlock;

std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges_of(const SackScoreboard& board) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const auto& range : board.ranges()) {
    out.emplace_back(range.begin.value(), range.end.value());
  }
  return out;
}

TEST(SackScoreboardTest, MergesBlocksAndFindsTheHolesBetweenThem) {
  SackScoreboard board;
  const std::vector<Block> first = {{3000, 4000}, {6000, 7000}};
  board.add(first, SeqNumber(1000), SeqNumber(10000));
  const std::vector<Block> second = {{4000, 5000}, {6500, 8000}};
  board.add(second, SeqNumber(1000), SeqNumber(10000));
  EXPECT_EQ(ranges_of(board),
            (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{3000, 5000}, {6000, 8000}}));
  EXPECT_EQ(board.sacked_bytes(), 4000u);

  auto hole = board.next_hole(SeqNumber(1000));
  ASSERT_TRUE(hole);
  EXPECT_EQ(hole->begin.value(), 1000u);
  EXPECT_EQ(hole->end.value(), 3000u);
  hole = board.next_hole(SeqNumber(3500));  // inside a SACKed range: the hole after it
  ASSERT_TRUE(hole);
  EXPECT_EQ(hole->begin.value(), 5000u);
  EXPECT_EQ(hole->end.value(), 6000u);
  // Above the highest SACKed byte nothing is known to be missing.
  EXPECT_FALSE(board.next_hole(SeqNumber(8000)));
}

TEST(SackScoreboardTest, IgnoresBlocksOutsideWhatWasSentAndForgetsWhatWasAcknowledged) {
  SackScoreboard board;
  const std::vector<Block> bad = {{500, 900},     // below SND.UNA
                                  {9000, 12000},  // beyond SND.MAX
                                  {5000, 4000},   // inverted
                                  {2000, 3000}};
  board.add(bad, SeqNumber(1000), SeqNumber(10000));
  EXPECT_EQ(ranges_of(board), (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{2000, 3000}}));
  board.advance(SeqNumber(2500));
  EXPECT_EQ(ranges_of(board), (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{2500, 3000}}));
  board.advance(SeqNumber(3000));
  EXPECT_TRUE(board.empty());
}

TEST(SackScoreboardTest, WorksAcrossSequenceWrapAround) {
  SackScoreboard board;
  const std::vector<Block> blocks = {{0xfffffff0u + 0x100, 0x200}};  // 0xf0 .. 0x200, past 2^32
  board.add(blocks, SeqNumber(0xfffffff0u), SeqNumber(0x1000));
  const auto hole = board.next_hole(SeqNumber(0xfffffff0u));
  ASSERT_TRUE(hole);
  EXPECT_EQ(hole->begin.value(), 0xfffffff0u);
  EXPECT_EQ(hole->end.value(), 0xf0u);
}

}  // namespace
}  // namespace nslab::ustack::tcp
