// A driver thread and a device thread exchange a million chains through one queue, sleeping
// whenever they run dry and waking only on the notifications the ring says are needed. A lost
// wake-up hangs the test (ctest's timeout fails it); a lost, duplicated, reordered or torn
// chain fails a check. Run it under ThreadSanitizer too: every byte of ring and buffer memory
// crosses threads only through the ring's release/acquire pairs.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "daemon/ustack/ring/buffer_pool.h"
#include "daemon/ustack/ring/device_queue.h"
#include "daemon/ustack/ring/driver_queue.h"
#include "daemon/ustack/ring/virtqueue.h"

namespace nslab::ustack::ring {
namespace {

constexpr std::uint32_t kBufferSize = 64;

// The chain shape for sequence number `seq`: 1 or 2 readable segments, 0 or 1 writable.
std::size_t readable_count(std::uint64_t seq) { return 1 + seq % 2; }
std::size_t writable_count(std::uint64_t seq) { return seq % 3 == 0 ? 0 : 1; }
std::uint32_t readable_len(std::uint64_t seq) { return static_cast<std::uint32_t>(16 + seq % 48); }
std::uint64_t reply_of(std::uint64_t seq) { return seq * 0x9e3779b97f4a7c15ull; }

std::uint64_t load_u64(const std::byte* p) {
  std::uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

void store_u64(std::byte* p, std::uint64_t value) { std::memcpy(p, &value, sizeof(value)); }

struct Stats {
  std::uint64_t kicks = 0;
  std::uint64_t interrupts = 0;
  std::uint64_t device_sleeps = 0;
  std::uint64_t driver_sleeps = 0;
};

Stats run(std::uint32_t queue_size, Suppression suppression, std::uint64_t total) {
  Virtqueue vq = *Virtqueue::create(queue_size);
  DriverQueue driver(vq, suppression);
  DeviceQueue device(vq, suppression);
  BufferPool pool = *BufferPool::create(queue_size, kBufferSize);
  const MemoryRegion region = pool.region();

  // The doorbells: stand-ins for the kick and interrupt eventfds.
  std::atomic<std::uint32_t> kick_count{0};
  std::atomic<std::uint32_t> interrupt_count{0};
  std::atomic<bool> done{false};
  std::atomic<bool> device_failed{false};
  Stats stats;

  std::thread device_thread([&] {
    std::vector<Segment> scratch(queue_size);
    std::uint64_t expected = 0;
    while (true) {
      const auto chain = device.pop(scratch);
      if (!chain) {
        if (device.broken()) {
          device_failed = true;
          break;
        }
        if (done) {
          break;
        }
        const std::uint32_t seen = kick_count.load();
        if (device.enable_notifications() && !done) {
          ++stats.device_sleeps;
          kick_count.wait(seen);
        }
        device.disable_notifications();
        continue;
      }
      // Check the chain against its sequence number, carried in its first segment.
      bool ok = !chain->readable.empty();
      const auto first =
          ok ? region.translate(chain->readable[0].addr, chain->readable[0].len) : std::nullopt;
      ok = ok && first && first->size() >= 8 && load_u64(first->data()) == expected;
      ok = ok && chain->readable.size() == readable_count(expected) &&
           chain->writable.size() == writable_count(expected);
      for (const Segment& s : chain->readable) {
        const auto bytes = region.translate(s.addr, s.len);
        ok = ok && bytes && s.len == readable_len(expected) &&
             load_u64(bytes->data() + 8) == ~expected;
      }
      std::uint32_t written = 0;
      if (ok && !chain->writable.empty()) {
        const auto out = region.translate(chain->writable[0].addr, chain->writable[0].len);
        ok = out && out->size() == kBufferSize;
        if (ok) {
          store_u64(out->data(), reply_of(expected));
          written = 8;
        }
      }
      if (!ok) {
        device_failed = true;
        break;
      }
      ++expected;
      device.push_used(chain->head, written);
      if (device.interrupt_needed()) {
        interrupt_count.fetch_add(1);
        interrupt_count.notify_one();
      }
    }
    // Whatever happened, do not leave the driver asleep.
    interrupt_count.fetch_add(1);
    interrupt_count.notify_one();
  });

  // Buffers of chain `seq`, kept by the driver; chains come back in order, so the slot of
  // seq % queue_size is free again when seq is added.
  std::vector<std::array<std::uint32_t, 3>> chain_buffers(queue_size);
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t errors = 0;
  while (received < total && !device_failed) {
    bool progressed = false;
    while (sent < total && driver.num_free() >= readable_count(sent) + writable_count(sent)) {
      std::array<Segment, 2> out;
      std::array<Segment, 1> in;
      auto& buffers = chain_buffers[sent % queue_size];
      std::size_t used_buffers = 0;
      for (std::size_t i = 0; i < readable_count(sent); ++i) {
        const std::uint32_t index = *pool.acquire();
        buffers[used_buffers++] = index;
        store_u64(pool.buffer(index).data(), i == 0 ? sent : 0);
        store_u64(pool.buffer(index).data() + 8, ~sent);
        out[i] = Segment{pool.segment(index).addr, readable_len(sent)};
      }
      for (std::size_t i = 0; i < writable_count(sent); ++i) {
        const std::uint32_t index = *pool.acquire();
        buffers[used_buffers++] = index;
        store_u64(pool.buffer(index).data(), 0);
        in[i] = pool.segment(index);
      }
      if (!driver.add(std::span(out).first(readable_count(sent)),
                      std::span(in).first(writable_count(sent)), sent)) {
        ++errors;
        break;
      }
      ++sent;
      progressed = true;
    }
    if (driver.kick_needed()) {
      ++stats.kicks;
      kick_count.fetch_add(1);
      kick_count.notify_one();
    }
    while (const auto used = driver.get_used()) {
      progressed = true;
      const std::uint64_t seq = used->token;
      const auto& buffers = chain_buffers[seq % queue_size];
      const std::size_t count = readable_count(seq) + writable_count(seq);
      if (seq != received || used->len != (writable_count(seq) != 0 ? 8u : 0u)) {
        ++errors;
      } else if (writable_count(seq) != 0 &&
                 load_u64(pool.buffer(buffers[count - 1]).data()) != reply_of(seq)) {
        ++errors;
      }
      for (std::size_t i = 0; i < count; ++i) {
        errors += pool.release(buffers[i]) ? 0 : 1;
      }
      ++received;
    }
    if (!progressed && driver.num_free() == queue_size) {
      ++errors;  // nothing in flight and nothing could be added: a test bug, do not hang on it
      break;
    }
    if (!progressed) {
      const std::uint32_t seen = interrupt_count.load();
      if (driver.enable_interrupts() && !device_failed) {
        ++stats.driver_sleeps;
        interrupt_count.wait(seen);
      }
      driver.disable_interrupts();
    }
  }
  done = true;
  kick_count.fetch_add(1);
  kick_count.notify_one();
  device_thread.join();

  stats.interrupts = interrupt_count.load() - 1;  // less the farewell
  EXPECT_FALSE(device_failed);
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(received, total);
  EXPECT_FALSE(driver.broken());
  EXPECT_EQ(driver.num_free(), queue_size);
  EXPECT_EQ(pool.available(), queue_size);
  return stats;
}

void report(const char* name, std::uint64_t total, const Stats& stats) {
  std::printf(
      "%s: %llu chains, %llu kicks, %llu interrupts, device slept %llu, driver slept %llu\n", name,
      static_cast<unsigned long long>(total), static_cast<unsigned long long>(stats.kicks),
      static_cast<unsigned long long>(stats.interrupts),
      static_cast<unsigned long long>(stats.device_sleeps),
      static_cast<unsigned long long>(stats.driver_sleeps));
}

TEST(RingStressTest, MillionChainsWithEventIdx) {
  constexpr std::uint64_t kTotal = 1000000;
  report("event_idx, 256", kTotal, run(256, Suppression::kEventIdx, kTotal));
}

TEST(RingStressTest, SmallQueueWithFlags) {
  constexpr std::uint64_t kTotal = 250000;
  report("flags, 8", kTotal, run(8, Suppression::kFlags, kTotal));
}

TEST(RingStressTest, TinyQueueWithEventIdx) {
  // The longest chain (3 descriptors) fits, two never do at once.
  constexpr std::uint64_t kTotal = 250000;
  report("event_idx, 4", kTotal, run(4, Suppression::kEventIdx, kTotal));
}

}  // namespace
}  // namespace nslab::ustack::ring
