#include <set>

#include "daemon/wire/delay_queue.h"
#include "daemon/wire/frame_pool.h"
#include "gtest/gtest.h"

namespace nslab::wire {
namespace {

TEST(FramePoolTest, GrowsBySlabsUpToTheBound) {
  FramePool pool(2048, /*initial_slots=*/1, /*max_slots=*/100);
  EXPECT_EQ(pool.capacity(), FramePool::kSlotsPerSlab);
  std::set<uint32_t> slots;
  for (int i = 0; i < 100; ++i) {
    const uint32_t slot = pool.Acquire();
    ASSERT_NE(slot, FramePool::kNoSlot);
    slots.insert(slot);
    pool.Slot(slot)[0] = std::byte{static_cast<uint8_t>(i)};
    pool.Slot(slot)[2047] = std::byte{static_cast<uint8_t>(i)};
  }
  EXPECT_EQ(slots.size(), 100u);
  EXPECT_EQ(pool.Acquire(), FramePool::kNoSlot);
  EXPECT_EQ(pool.in_use(), 100u);
  pool.Release(*slots.begin());
  EXPECT_EQ(pool.Acquire(), *slots.begin());
  pool.set_max_slots(200);
  EXPECT_NE(pool.Acquire(), FramePool::kNoSlot);
}

TEST(DelayQueueTest, EarliestFirstTiesInOrder) {
  DelayQueue queue;
  queue.Push(30, 0, 1);
  queue.Push(10, 1, 1);
  queue.Push(20, 2, 1);
  queue.Push(10, 3, 1);
  queue.Push(10, 4, 1);
  std::vector<uint32_t> order;
  while (!queue.empty()) {
    order.push_back(queue.Top().slot);
    queue.Pop();
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 3, 4, 2, 0}));
}

}  // namespace
}  // namespace nslab::wire
