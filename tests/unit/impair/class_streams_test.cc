#include "daemon/impair/class_streams.h"

#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

TEST(ClassTableTest, HoldsUpToItsCapacityAndForgetsTheLeastRecentlyUsed) {
  ClassTable table(3);
  for (uint64_t key : {1, 2, 3}) {
    EXPECT_EQ(table.Find(key), nullptr);
    table.Insert(key, ClassDraws(key));
  }
  EXPECT_EQ(table.size(), 3u);
  ASSERT_NE(table.Find(1), nullptr);  // 2 is now the least recently used
  table.Insert(4, ClassDraws(4));
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.evictions(), 1u);
  EXPECT_EQ(table.Find(2), nullptr);
  for (uint64_t key : {1, 3, 4}) {
    EXPECT_NE(table.Find(key), nullptr) << key;
  }
  // Order now (oldest first): 1, 3, 4. Using 3 and 1 leaves 4 the oldest.
  table.Find(3);
  table.Find(1);
  table.Insert(5, ClassDraws(5));
  EXPECT_EQ(table.Find(4), nullptr);
  EXPECT_NE(table.Find(3), nullptr);
  EXPECT_NE(table.Find(1), nullptr);
  EXPECT_NE(table.Find(5), nullptr);
}

TEST(ClassTableTest, EachClassKeepsItsOwnStream) {
  ClassTable table(2);
  table.Insert(10, ClassDraws(100));
  table.Insert(20, ClassDraws(200));
  Rng a(100);
  Rng b(200);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(table.Find(10)->rng.Next64(), a.Next64());
    ASSERT_EQ(table.Find(20)->rng.Next64(), b.Next64());
  }
}

TEST(ClassTableTest, CapacityOneReplacesItsOnlyClass) {
  ClassTable table(1);
  table.Insert(1, ClassDraws(1));
  table.Insert(2, ClassDraws(2));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.Find(1), nullptr);
  EXPECT_NE(table.Find(2), nullptr);
}

}  // namespace
}  // namespace nslab::impair
