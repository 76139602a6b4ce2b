#include "daemon/ustack/tcp/seq.h"

#include <gtest/gtest.h>

namespace nslab::ustack::tcp {
namespace {

TEST(SeqNumberTest, OrdersAcrossTheWrap) {
  const SeqNumber before_wrap(0xfffffff0);
  const SeqNumber after_wrap(0x00000010);
  EXPECT_LT(before_wrap, after_wrap);
  EXPECT_GT(after_wrap, before_wrap);
  EXPECT_LE(before_wrap, before_wrap);
  EXPECT_EQ(after_wrap - before_wrap, 0x20u);
  EXPECT_EQ(before_wrap + 0x20, after_wrap);
  EXPECT_EQ(after_wrap - 0x20u, before_wrap);
  EXPECT_EQ(after_wrap.distance_from(before_wrap), 0x20);
  EXPECT_EQ(before_wrap.distance_from(after_wrap), -0x20);
}

TEST(SeqNumberTest, HalfTheCircleAheadIsLater) {
  const SeqNumber zero(0);
  EXPECT_LT(zero, SeqNumber(0x7fffffff));
  // 2^31 ahead is, by the signed distance, behind.
  EXPECT_GT(zero, SeqNumber(0x80000000));
}

TEST(SeqNumberTest, RangeTestWraps) {
  const SeqNumber first(0xffffff00);
  EXPECT_TRUE(seq_in_range(SeqNumber(0xffffff00), first, 0x200));
  EXPECT_TRUE(seq_in_range(SeqNumber(0x000000ff), first, 0x200));
  EXPECT_FALSE(seq_in_range(SeqNumber(0x00000100), first, 0x200));
  EXPECT_FALSE(seq_in_range(SeqNumber(0xfffffeff), first, 0x200));
  EXPECT_FALSE(seq_in_range(first, first, 0));
}

TEST(SeqNumberTest, MinAndMaxFollowTheCircle) {
  EXPECT_EQ(seq_max(SeqNumber(0xffffffff), SeqNumber(1)), SeqNumber(1));
  EXPECT_EQ(seq_min(SeqNumber(0xffffffff), SeqNumber(1)), SeqNumber(0xffffffff));
}

}  // namespace
}  // namespace nslab::ustack::tcp
