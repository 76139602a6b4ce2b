// Offer and PopDue must not allocate once the queue has been as deep before. Counted by
// replacing the global allocation functions, so this test has a binary of its own.
#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "daemon/wire/pipeline.h"
#include "gtest/gtest.h"

namespace {

std::atomic<long> allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  std::abort();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace nslab::wire {
namespace {

TEST(ImpairmentPipelineAllocationTest, NoAllocationOnceWarm) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(5'000);
  impairment.set_jitter_us(1'000);
  impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_NORMAL);
  impairment.set_loss(1);
  impairment.set_duplicate(1);
  impairment.set_corrupt(1);
  impairment.set_reorder(5);
  impairment.set_rate_bps(1'000'000'000);
  absl::StatusOr<ImpairmentPipeline> pipeline = ImpairmentPipeline::Create(impairment, 1);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  const std::vector<std::byte> frame(1500, std::byte{0x5a});
  uint64_t delivered = 0;
  auto run = [&](int64_t from, int64_t frames) {
    for (int64_t i = from; i < from + frames; ++i) {
      const TimePoint now = impair::FromNanos(i * 13'000);  // ~92% of 1 Gbit/s
      pipeline->Offer(frame, now);
      pipeline->PopDue(now, [&](std::span<const std::byte>, TimePoint) { ++delivered; });
    }
  };
  const long start = allocations.load();
  run(0, 20'000);  // warm up: the queue reaches its working depth
  const long before = allocations.load();
  EXPECT_GT(before - start, 0) << "the pool grows while warming up; is counting working?";
  run(20'000, 50'000);
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_GT(delivered, 60'000u);
}

}  // namespace
}  // namespace nslab::wire
