// The driver and the device side on one thread: what each puts into ring memory and what the
// other gets back.

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "daemon/ustack/ring/buffer_pool.h"
#include "daemon/ustack/ring/device_queue.h"
#include "daemon/ustack/ring/driver_queue.h"
#include "daemon/ustack/ring/shared_index.h"
#include "daemon/ustack/ring/virtqueue.h"

namespace nslab::ustack::ring {
namespace {

struct Queue {
  explicit Queue(std::uint32_t size, Suppression suppression = Suppression::kEventIdx)
      : vq(*Virtqueue::create(size)),
        driver(vq, suppression),
        device(vq, suppression),
        scratch(size) {}

  Virtqueue vq;
  DriverQueue driver;
  DeviceQueue device;
  std::vector<Segment> scratch;
};

TEST(QueueTest, SingleBufferRoundTrip) {
  Queue q(4);
  const Segment frame{0x1000, 1514};
  ASSERT_TRUE(q.driver.add({&frame, 1}, {}, 77));
  EXPECT_EQ(q.driver.num_free(), 3);
  EXPECT_EQ(q.device.pending(), 1);
  const auto chain = q.device.pop(q.scratch);
  ASSERT_TRUE(chain.has_value());
  ASSERT_EQ(chain->readable.size(), 1u);
  EXPECT_TRUE(chain->writable.empty());
  EXPECT_EQ(chain->readable[0].addr, 0x1000u);
  EXPECT_EQ(chain->readable[0].len, 1514u);
  EXPECT_FALSE(q.device.pop(q.scratch).has_value());
  EXPECT_FALSE(q.driver.get_used().has_value());
  q.device.push_used(chain->head, 0);
  const auto used = q.driver.get_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->token, 77u);
  EXPECT_EQ(used->len, 0u);
  EXPECT_EQ(q.driver.num_free(), 4);
  EXPECT_FALSE(q.driver.get_used().has_value());
}

TEST(QueueTest, ChainsCarryNextAndWriteFlags) {
  Queue q(8);
  const std::array<Segment, 2> out = {{{0x100, 10}, {0x200, 20}}};
  const std::array<Segment, 3> in = {{{0x300, 30}, {0x400, 40}, {0x500, 50}}};
  ASSERT_TRUE(q.driver.add(out, in, 5));
  EXPECT_EQ(q.driver.num_free(), 3);

  // What the device would read straight from the descriptor table.
  const RingPointers& r = q.vq.rings();
  std::uint16_t index = r.avail_ring(0);
  std::vector<std::uint16_t> flags;
  for (int i = 0; i < 5; ++i) {
    flags.push_back(r.desc[index].flags);
    index = r.desc[index].next;
  }
  EXPECT_EQ(flags, (std::vector<std::uint16_t>{kDescFlagNext, kDescFlagNext,
                                               kDescFlagNext | kDescFlagWrite,
                                               kDescFlagNext | kDescFlagWrite, kDescFlagWrite}));

  const auto chain = q.device.pop(q.scratch);
  ASSERT_TRUE(chain.has_value());
  ASSERT_EQ(chain->readable.size(), 2u);
  ASSERT_EQ(chain->writable.size(), 3u);
  EXPECT_EQ(chain->readable[1].addr, 0x200u);
  EXPECT_EQ(chain->writable[0].addr, 0x300u);
  EXPECT_EQ(chain->writable[2].len, 50u);
  q.device.push_used(chain->head, 120);
  const auto used = q.driver.get_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->token, 5u);
  EXPECT_EQ(used->len, 120u);
}

TEST(QueueTest, WriteOnlyChain) {
  Queue q(2);
  const Segment rx{0x100, 2048};
  ASSERT_TRUE(q.driver.add({}, {&rx, 1}, 1));
  const auto chain = q.device.pop(q.scratch);
  ASSERT_TRUE(chain.has_value());
  EXPECT_TRUE(chain->readable.empty());
  EXPECT_EQ(chain->writable.size(), 1u);
}

TEST(QueueTest, RingFullRefusesAndRecovers) {
  Queue q(4);
  const std::array<Segment, 3> three = {{{1, 1}, {2, 2}, {3, 3}}};
  const Segment one{9, 9};
  EXPECT_FALSE(q.driver.add({}, {}, 0));  // an empty chain is not a chain
  ASSERT_TRUE(q.driver.add(three, {}, 1));
  EXPECT_FALSE(q.driver.add(three, {}, 2));  // 3 needed, 1 free
  ASSERT_TRUE(q.driver.add({&one, 1}, {}, 3));
  EXPECT_EQ(q.driver.num_free(), 0);
  EXPECT_FALSE(q.driver.add({&one, 1}, {}, 4));
  const std::array<Segment, 5> five{};
  EXPECT_FALSE(q.driver.add(five, {}, 5));  // longer than the queue

  const auto first = q.device.pop(q.scratch);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->readable.size(), 3u);
  q.device.push_used(first->head, 0);
  ASSERT_TRUE(q.driver.get_used().has_value());
  EXPECT_EQ(q.driver.num_free(), 3);
  EXPECT_TRUE(q.driver.add(three, {}, 6));
}

TEST(QueueTest, FreeListReusesReturnedDescriptors) {
  Queue q(4);
  const Segment s{1, 1};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.driver.add({&s, 1}, {}, i));
  }
  // Return them out of order: 2, 0, 3, 1.
  std::vector<Chain> chains;
  std::vector<std::vector<Segment>> scratches(4, std::vector<Segment>(4));
  for (int i = 0; i < 4; ++i) {
    chains.push_back(*q.device.pop(scratches[i]));
  }
  for (const int i : {2, 0, 3, 1}) {
    q.device.push_used(chains[i].head, static_cast<std::uint32_t>(i));
  }
  std::vector<std::uint64_t> tokens;
  while (const auto used = q.driver.get_used()) {
    EXPECT_EQ(used->len, used->token);
    tokens.push_back(used->token);
  }
  EXPECT_EQ(tokens, (std::vector<std::uint64_t>{2, 0, 3, 1}));
  // All four descriptors are free again, and each is handed out once.
  const std::array<Segment, 4> four{};
  ASSERT_TRUE(q.driver.add(four, {}, 9));
  const auto chain = q.device.pop(q.scratch);
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->readable.size(), 4u);
}

TEST(QueueTest, IndicesWrapAround16Bits) {
  // About 200000 chains through a 4-entry queue: the free-running indices wrap three times.
  Queue q(4);
  std::deque<std::uint64_t> expected;
  std::uint64_t next_token = 0;
  bool saw_wrap = false;
  std::uint16_t previous_idx = 0;
  for (int step = 0; step < 300000; ++step) {
    const Segment out{next_token, static_cast<std::uint32_t>(next_token % 1500)};
    const Segment in{next_token + 1, 64};
    if (q.driver.add({&out, 1}, {&in, next_token % 3 == 0 ? 1u : 0u}, next_token)) {
      expected.push_back(next_token++);
    }
    if (step % 3 != 0) {
      if (const auto chain = q.device.pop(q.scratch)) {
        EXPECT_EQ(chain->readable[0].len, chain->readable[0].addr % 1500);
        q.device.push_used(chain->head, static_cast<std::uint32_t>(chain->readable[0].addr));
      }
    }
    if (step % 2 == 0) {
      while (const auto used = q.driver.get_used()) {
        ASSERT_FALSE(expected.empty());
        EXPECT_EQ(used->token, expected.front());
        EXPECT_EQ(used->len, static_cast<std::uint32_t>(expected.front()));
        expected.pop_front();
      }
    }
    const std::uint16_t idx = load_acquire(q.vq.rings().avail_idx());
    saw_wrap |= idx < previous_idx;
    previous_idx = idx;
  }
  EXPECT_TRUE(saw_wrap);
  EXPECT_GT(next_token, 65536u * 2);
  EXPECT_FALSE(q.driver.broken());
  EXPECT_FALSE(q.device.broken());
}

TEST(QueueTest, LargestQueueWraps) {
  Queue q(kMaxQueueSize);
  const Segment s{1, 1};
  std::uint64_t received = 0;
  for (int round = 0; round < 3; ++round) {
    for (std::uint32_t i = 0; i < kMaxQueueSize; ++i) {
      ASSERT_TRUE(q.driver.add({&s, 1}, {}, i));
    }
    EXPECT_FALSE(q.driver.add({&s, 1}, {}, 0));
    EXPECT_EQ(q.device.pending(), kMaxQueueSize);
    while (const auto chain = q.device.pop(q.scratch)) {
      q.device.push_used(chain->head, 0);
    }
    std::uint64_t token = 0;
    while (const auto used = q.driver.get_used()) {
      EXPECT_EQ(used->token, token++);
      ++received;
    }
  }
  EXPECT_EQ(received, 3u * kMaxQueueSize);
  EXPECT_EQ(load_acquire(q.vq.rings().used_idx()), static_cast<std::uint16_t>(3 * kMaxQueueSize));
}

TEST(QueueTest, DeviceRefusesMalformedChains) {
  const auto malformed = [](auto corrupt) {
    Queue q(4);
    const std::array<Segment, 2> out = {{{1, 1}, {2, 2}}};
    EXPECT_TRUE(q.driver.add(out, {}, 0));
    corrupt(q.vq.rings());
    EXPECT_FALSE(q.device.pop(q.scratch).has_value());
    EXPECT_TRUE(q.device.broken());
  };
  // A loop: the second descriptor points back at the first.
  malformed([](const RingPointers& r) {
    const std::uint16_t head = r.avail_ring(0);
    r.desc[r.desc[head].next].flags |= kDescFlagNext;
    r.desc[r.desc[head].next].next = head;
  });
  // A next index outside the table.
  malformed([](const RingPointers& r) { r.desc[r.avail_ring(0)].next = 4; });
  // A head outside the table.
  malformed([](const RingPointers& r) { r.avail_ring(0) = 17; });
  // Readable after writable.
  malformed([](const RingPointers& r) { r.desc[r.avail_ring(0)].flags |= kDescFlagWrite; });
  // Indirect descriptors were not negotiated.
  malformed([](const RingPointers& r) { r.desc[r.avail_ring(0)].flags |= kDescFlagIndirect; });
  // The driver claims more chains than the queue holds.
  malformed([](const RingPointers& r) { store_release(r.avail_idx(), 9); });
}

TEST(QueueTest, DeviceRefusesChainsLongerThanItsScratch) {
  Queue q(8);
  const std::array<Segment, 3> out{};
  ASSERT_TRUE(q.driver.add(out, {}, 0));
  std::array<Segment, 2> small{};
  EXPECT_FALSE(q.device.pop(small).has_value());
  EXPECT_TRUE(q.device.broken());
}

TEST(QueueTest, DriverRefusesUsedChainsItNeverOffered) {
  {
    Queue q(4);
    const Segment s{1, 1};
    ASSERT_TRUE(q.driver.add({&s, 1}, {}, 0));
    const auto chain = q.device.pop(q.scratch);
    q.device.push_used(chain->head, 0);
    q.device.push_used(chain->head, 0);  // the same chain twice
    EXPECT_TRUE(q.driver.get_used().has_value());
    EXPECT_FALSE(q.driver.get_used().has_value());
    EXPECT_TRUE(q.driver.broken());
  }
  {
    Queue q(4);
    q.device.push_used(3, 0);  // a head that is not in flight
    EXPECT_FALSE(q.driver.get_used().has_value());
    EXPECT_TRUE(q.driver.broken());
  }
}

TEST(BufferPoolTest, HandsOutEachBufferOnce) {
  auto pool = BufferPool::create(4, 1514);
  ASSERT_TRUE(pool.has_value());
  EXPECT_EQ(pool->available(), 4u);
  std::vector<std::uint32_t> taken;
  while (const auto index = pool->acquire()) {
    taken.push_back(*index);
  }
  EXPECT_EQ(taken.size(), 4u);
  EXPECT_FALSE(pool->acquire().has_value());
  for (const std::uint32_t index : taken) {
    EXPECT_EQ(pool->buffer(index).size(), 1514u);
    EXPECT_EQ(
        reinterpret_cast<std::uintptr_t>(pool->buffer(index).data()) % BufferPool::kBufferAlignment,
        0u);
    EXPECT_EQ(pool->index_of(pool->segment(index).addr + 100), index);
  }
  EXPECT_TRUE(pool->release(taken[1]));
  EXPECT_FALSE(pool->release(taken[1]));  // twice
  EXPECT_FALSE(pool->release(99));
  EXPECT_EQ(pool->acquire(), taken[1]);
  EXPECT_FALSE(BufferPool::create(0, 64).has_value());
  EXPECT_FALSE(BufferPool::create(4, 0).has_value());
}

// A deep ring of TSO-sized buffers costs the pages frames write, not count x size: the
// default rx ring is 1024 buffers, 64 KiB each with TSO.
TEST(BufferPoolTest, BuffersCostOnlyThePagesWritten) {
  constexpr std::uint32_t kCount = 1024;
  constexpr std::uint32_t kSize = 65536 + 12;
  auto pool = BufferPool::create(kCount, kSize);
  ASSERT_TRUE(pool.has_value());
  const std::span<std::byte> memory = pool->region().memory();
  const long page = ::sysconf(_SC_PAGESIZE);
  const auto resident = [&] {
    std::vector<unsigned char> pages((memory.size() + page - 1) / page);
    EXPECT_EQ(::mincore(memory.data(), memory.size(), pages.data()), 0);
    std::size_t count = 0;
    for (unsigned char p : pages) {
      count += p & 1;
    }
    return count;
  };
  EXPECT_EQ(resident(), 0u);
  // Small frames into every buffer: each touches the page its buffer starts on.
  for (std::uint32_t i = 0; i < kCount; ++i) {
    const std::span<std::byte> buffer = pool->buffer(i);
    EXPECT_EQ(buffer[100], std::byte{0});  // a fresh buffer reads as zeros
    std::fill_n(buffer.begin(), 128, std::byte{0xab});
  }
  EXPECT_LE(resident(), 2u * kCount);
  EXPECT_LT(resident() * static_cast<std::size_t>(page), memory.size() / 8);
}

TEST(BufferPoolTest, RegionTranslatesOnlyInsideThePool) {
  auto pool = BufferPool::create(2, 100);
  const MemoryRegion region = pool->region();
  const Segment s = pool->segment(1);
  const auto bytes = region.translate(s.addr, s.len);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(bytes->data(), pool->buffer(1).data());
  const std::uint64_t base = MemoryRegion::address_of(region.memory().data());
  const std::uint64_t end = base + region.memory().size();
  EXPECT_TRUE(region.translate(end - 10, 10).has_value());
  EXPECT_TRUE(region.translate(end, 0).has_value());
  EXPECT_FALSE(region.translate(end - 10, 11).has_value());
  EXPECT_FALSE(region.translate(base - 1, 1).has_value());
  EXPECT_FALSE(region.translate(end + 1, 0).has_value());
  EXPECT_FALSE(region.translate(~std::uint64_t{0}, 0xffffffff).has_value());
  EXPECT_FALSE(region.translate(0, 16).has_value());
}

TEST(BufferPoolTest, FramesTravelThroughTheRing) {
  Queue q(8);
  auto pool = *BufferPool::create(8, 256);
  const std::uint32_t index = *pool.acquire();
  std::fill_n(pool.buffer(index).begin(), 4, std::byte{0xab});
  Segment out = pool.segment(index);
  out.len = 4;
  ASSERT_TRUE(q.driver.add({&out, 1}, {}, index));
  const auto chain = q.device.pop(q.scratch);
  const auto bytes = pool.region().translate(chain->readable[0].addr, chain->readable[0].len);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ((*bytes)[3], std::byte{0xab});
  q.device.push_used(chain->head, 0);
  const auto used = q.driver.get_used();
  EXPECT_TRUE(pool.release(static_cast<std::uint32_t>(used->token)));
}

}  // namespace
}  // namespace nslab::ustack::ring
