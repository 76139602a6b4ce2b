// Notification suppression in both directions: the driver's kick decision against the device's
// avail_event / NO_NOTIFY, and the device's interrupt decision against the driver's used_event /
// NO_INTERRUPT, checked against the spec's vring_need_event().

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "daemon/ustack/ring/device_queue.h"
#include "daemon/ustack/ring/driver_queue.h"
#include "daemon/ustack/ring/shared_index.h"
#include "daemon/ustack/ring/virtqueue.h"

namespace nslab::ustack::ring {
namespace {

// Verbatim from the virtio 1.x spec (2.7.10, "Driver Notifications" / include/uapi/linux/
// virtio_ring.h), kept apart from the implementation on purpose.
int vring_need_event(std::uint16_t event_idx, std::uint16_t new_idx, std::uint16_t old) {
  return static_cast<std::uint16_t>(new_idx - event_idx - 1) <
         static_cast<std::uint16_t>(new_idx - old);
}

TEST(NeedEventTest, MatchesTheSpecEverywhere) {
  std::mt19937 rng(7);
  for (int i = 0; i < 1000000; ++i) {
    const auto event = static_cast<std::uint16_t>(rng());
    const auto old_idx = static_cast<std::uint16_t>(rng());
    // Mostly short batches near the event, as rings produce them, plus arbitrary ones.
    const auto batch = static_cast<std::uint16_t>(i % 2 == 0 ? rng() % 64 : rng());
    const auto new_idx = static_cast<std::uint16_t>(old_idx + batch);
    const auto near_event = static_cast<std::uint16_t>(event - rng() % 64);
    ASSERT_EQ(need_event(event, new_idx, old_idx), vring_need_event(event, new_idx, old_idx) != 0);
    ASSERT_EQ(need_event(event, new_idx, near_event),
              vring_need_event(event, new_idx, near_event) != 0);
  }
  // The edges: the event at old fires, at new does not; across the 16-bit wrap too.
  EXPECT_TRUE(need_event(10, 11, 10));
  EXPECT_FALSE(need_event(11, 11, 10));
  EXPECT_TRUE(need_event(0xffff, 2, 0xfffe));
  EXPECT_TRUE(need_event(0, 2, 0xfffe));
  EXPECT_FALSE(need_event(2, 2, 0xfffe));
  EXPECT_FALSE(need_event(5, 5, 5));
}

struct Queue {
  explicit Queue(std::uint32_t size, Suppression suppression)
      : vq(*Virtqueue::create(size)),
        driver(vq, suppression),
        device(vq, suppression),
        scratch(size) {}

  // Adds `n` one-segment chains.
  void add(int n) {
    const Segment s{1, 1};
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(driver.add({&s, 1}, {}, 0));
    }
  }
  // Pops and uses up to `n` chains.
  void use(int n) {
    for (int i = 0; i < n; ++i) {
      const auto chain = device.pop(scratch);
      ASSERT_TRUE(chain.has_value());
      device.push_used(chain->head, 0);
    }
  }
  void reclaim() {
    while (driver.get_used()) {
    }
  }

  Virtqueue vq;
  DriverQueue driver;
  DeviceQueue device;
  std::vector<Segment> scratch;
};

TEST(EventIdxTest, KickOnlyWhenTheDeviceAskedForIt) {
  Queue q(16, Suppression::kEventIdx);
  EXPECT_FALSE(q.driver.kick_needed());  // nothing added
  // avail_event starts at 0: the first chain crosses it.
  q.add(1);
  EXPECT_TRUE(q.driver.kick_needed());
  // The device has not re-armed: more chains need no kick.
  q.add(3);
  EXPECT_FALSE(q.driver.kick_needed());
  // The device drains and arms at its position (4): the next chain crosses it.
  q.use(4);
  EXPECT_TRUE(q.device.enable_notifications());
  EXPECT_EQ(load_relaxed(*q.vq.rings().avail_event), 4);
  q.add(2);
  EXPECT_TRUE(q.driver.kick_needed());
  q.add(1);
  EXPECT_FALSE(q.driver.kick_needed());
}

TEST(EventIdxTest, DeviceSeesChainsThatArrivedWhileArming) {
  Queue q(16, Suppression::kEventIdx);
  q.add(1);
  EXPECT_FALSE(q.device.enable_notifications());  // one is pending: poll, do not sleep
}

TEST(EventIdxTest, InterruptOnlyWhenTheDriverAskedForIt) {
  Queue q(16, Suppression::kEventIdx);
  q.add(8);
  EXPECT_FALSE(q.device.interrupt_needed());  // nothing used
  // used_event starts at 0: the first used chain crosses it.
  q.use(1);
  EXPECT_TRUE(q.device.interrupt_needed());
  // One-shot: the driver has not re-armed.
  q.use(2);
  EXPECT_FALSE(q.device.interrupt_needed());
  // The driver reaps 3 and arms at 3; the device has used nothing new: safe to sleep.
  q.reclaim();
  EXPECT_TRUE(q.driver.enable_interrupts());
  EXPECT_EQ(load_relaxed(q.vq.rings().used_event()), 3);
  q.use(1);
  EXPECT_TRUE(q.device.interrupt_needed());
  // Arming while used chains wait says so.
  q.use(1);
  EXPECT_FALSE(q.driver.enable_interrupts());
}

TEST(EventIdxTest, DecisionsFollowTheSpecAcrossTheWrap) {
  // Random batches for 300000 chains: every decision equals vring_need_event() over the event
  // index in ring memory and the indices before and after the batch.
  Queue q(64, Suppression::kEventIdx);
  std::mt19937 rng(42);
  const RingPointers& r = q.vq.rings();
  std::uint16_t kicked_at = 0;     // avail idx at the last kick decision
  std::uint16_t signalled_at = 0;  // used idx at the last interrupt decision
  int decisions = 0;
  int kicks = 0;
  int interrupts = 0;
  for (std::uint64_t total = 0; total < 300000;) {
    const int batch = static_cast<int>(rng() % (q.driver.num_free() + 1));
    q.add(batch);
    total += static_cast<std::uint64_t>(batch);
    if (rng() % 2 == 0) {
      q.device.enable_notifications();
    }
    const std::uint16_t avail = load_acquire(r.avail_idx());
    const bool kick_expected =
        avail != kicked_at && vring_need_event(load_relaxed(*r.avail_event), avail, kicked_at);
    ASSERT_EQ(q.driver.kick_needed(), kick_expected);
    kicks += kick_expected ? 1 : 0;
    ++decisions;
    kicked_at = avail;

    q.use(static_cast<int>(rng() % (q.device.pending() + 1)));
    if (rng() % 2 == 0) {
      q.driver.enable_interrupts();
    }
    const std::uint16_t used = load_acquire(r.used_idx());
    const bool interrupt_expected =
        used != signalled_at && vring_need_event(load_relaxed(r.used_event()), used, signalled_at);
    ASSERT_EQ(q.device.interrupt_needed(), interrupt_expected);
    interrupts += interrupt_expected ? 1 : 0;
    signalled_at = used;
    q.reclaim();
  }
  // Both kinds of decision went both ways, many times.
  EXPECT_GT(kicks, 100);
  EXPECT_GT(decisions - kicks, 100);
  EXPECT_GT(interrupts, 100);
  EXPECT_GT(decisions - interrupts, 100);
  std::printf("%d decisions each way: %d kicks, %d interrupts\n", decisions, kicks, interrupts);
}

TEST(FlagsTest, NoNotifyAndNoInterruptFlags) {
  Queue q(16, Suppression::kFlags);
  q.add(1);
  EXPECT_TRUE(q.driver.kick_needed());
  q.device.disable_notifications();
  EXPECT_EQ(load_relaxed(q.vq.rings().used_flags()), kUsedFlagNoNotify);
  q.add(1);
  EXPECT_FALSE(q.driver.kick_needed());
  EXPECT_FALSE(q.device.enable_notifications());  // two chains wait
  EXPECT_EQ(load_relaxed(q.vq.rings().used_flags()), 0);
  q.add(1);
  EXPECT_TRUE(q.driver.kick_needed());

  q.use(1);
  EXPECT_TRUE(q.device.interrupt_needed());
  q.use(1);
  EXPECT_TRUE(q.device.interrupt_needed());  // flags do not self-disarm
  q.driver.disable_interrupts();
  EXPECT_EQ(load_relaxed(q.vq.rings().avail_flags()), kAvailFlagNoInterrupt);
  q.use(1);
  EXPECT_FALSE(q.device.interrupt_needed());
  q.reclaim();
  EXPECT_TRUE(q.driver.enable_interrupts());
  EXPECT_EQ(load_relaxed(q.vq.rings().avail_flags()), 0);
}

TEST(FlagsTest, EventIndicesAreNotWrittenWithoutEventIdx) {
  Queue q(16, Suppression::kFlags);
  q.add(3);
  q.use(3);
  q.reclaim();
  q.driver.enable_interrupts();
  q.device.enable_notifications();
  EXPECT_EQ(load_relaxed(q.vq.rings().used_event()), 0);
  EXPECT_EQ(load_relaxed(*q.vq.rings().avail_event), 0);
}

}  // namespace
}  // namespace nslab::ustack::ring
