#include "daemon/ustack/ring/virtqueue.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "daemon/ustack/ring/shared_index.h"

namespace nslab::ustack::ring {
namespace {

TEST(VirtqueueTest, AcceptsPowersOfTwoUpTo32768) {
  for (std::uint32_t size = 1; size <= kMaxQueueSize; size *= 2) {
    const auto vq = Virtqueue::create(size);
    ASSERT_TRUE(vq.has_value()) << size;
    EXPECT_EQ(vq->size(), size);
  }
  for (const std::uint32_t size : {0u, 3u, 6u, 1000u, 65536u, 65535u, 1u << 20}) {
    EXPECT_FALSE(Virtqueue::create(size).has_value()) << size;
  }
}

TEST(VirtqueueTest, LaysOutThePartsAsTheSpecSays) {
  const auto vq = Virtqueue::create(256);
  ASSERT_TRUE(vq.has_value());
  const RingPointers& r = vq->rings();
  const auto base = reinterpret_cast<std::uintptr_t>(vq->memory().data());
  const auto at = [base](const void* p) { return reinterpret_cast<std::uintptr_t>(p) - base; };
  EXPECT_EQ(base % Virtqueue::kAlignment, 0u);
  EXPECT_EQ(at(r.desc), 0u);
  EXPECT_EQ(at(&r.avail_flags()), 16u * 256);
  EXPECT_EQ(at(&r.avail_idx()), 16u * 256 + 2);
  EXPECT_EQ(at(&r.avail_ring(0)), 16u * 256 + 4);
  EXPECT_EQ(at(&r.used_event()), 16u * 256 + 4 + 2 * 256);
  EXPECT_EQ(at(&r.used_flags()) % Virtqueue::kUsedAlignment, 0u);
  EXPECT_GT(at(&r.used_flags()), at(&r.used_event()));
  EXPECT_EQ(at(&r.used_idx()), at(&r.used_flags()) + 2);
  EXPECT_EQ(at(r.used_ring), at(&r.used_flags()) + 4);
  EXPECT_EQ(at(r.avail_event), at(r.used_ring) + 8 * 256);
  EXPECT_LE(at(r.avail_event) + 2, vq->memory().size());
  // Everything starts at zero.
  EXPECT_EQ(load_acquire(r.avail_idx()), 0);
  EXPECT_EQ(load_acquire(r.used_idx()), 0);
}

TEST(VirtqueueTest, MovingKeepsTheRings) {
  auto vq = Virtqueue::create(8);
  const RingPointers before = vq->rings();
  Virtqueue moved = std::move(*vq);
  EXPECT_EQ(moved.rings().desc, before.desc);
  EXPECT_EQ(moved.rings().avail_event, before.avail_event);
}

}  // namespace
}  // namespace nslab::ustack::ring
