#include "daemon/impair/trace.h"

#include <memory>

#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

constexpr int64_t kMs = 1'000'000;

std::shared_ptr<const DeliveryTrace> MakeTrace(std::string_view text) {
  absl::StatusOr<DeliveryTrace> trace = DeliveryTrace::Parse(text);
  EXPECT_TRUE(trace.ok()) << trace.status();
  return std::make_shared<const DeliveryTrace>(*std::move(trace));
}

TEST(DeliveryTraceTest, Parses) {
  const auto trace = MakeTrace("1\n2\n2\n5\n");
  EXPECT_EQ(trace->size(), 4u);
  EXPECT_EQ(trace->period_ns(), 5 * kMs);
}

TEST(DeliveryTraceTest, RejectsWhatMahimahiRejects) {
  EXPECT_EQ(DeliveryTrace::Parse("").status().message(), "delivery trace has no timestamps");
  EXPECT_EQ(DeliveryTrace::Parse("0\n0\n").status().message(),
            "delivery trace ends at 0 ms; it must last longer than 0 ms to be repeated");
  EXPECT_EQ(DeliveryTrace::Parse("1\n5\n3\n").status().message(),
            "delivery trace line 3: 3 ms comes before 5 ms; timestamps must not decrease");
  EXPECT_EQ(DeliveryTrace::Parse("1\n-2\n").status().message(),
            "delivery trace line 2: \"-2\" is not a millisecond timestamp (an integer "
            "0..4294967295)");
}

TEST(TraceShaperTest, FullSizeFramesTakeOneOpportunityEachAndLoop) {
  TraceShaper shaper(MakeTrace("1\n2\n2\n5\n"));
  const int64_t origin = 100 * kMs;
  shaper.Start(origin);
  // Pass 0 at 1, 2, 2, 5 ms; pass 1 shifted by 5 ms; pass 2 by 10 ms.
  for (int64_t expected_ms : {1, 2, 2, 5, 6, 7, 7, 10, 11, 12, 12, 15}) {
    EXPECT_EQ(shaper.Depart(origin, 1500), origin + expected_ms * kMs);
  }
}

TEST(TraceShaperTest, SmallFramesShareAnOpportunityLargeOnesSpanSeveral) {
  TraceShaper shaper(MakeTrace("1\n2\n3\n4\n"));
  shaper.Start(0);
  EXPECT_EQ(shaper.Depart(0, 500), 1 * kMs);
  EXPECT_EQ(shaper.Depart(0, 500), 1 * kMs);
  EXPECT_EQ(shaper.Depart(0, 500), 1 * kMs);
  EXPECT_EQ(shaper.Depart(0, 3000), 3 * kMs);  // bytes of opportunities 2 and 3
  EXPECT_EQ(shaper.Depart(0, 100), 4 * kMs);
}

TEST(TraceShaperTest, OpportunitiesOnAnEmptyQueueAreLost) {
  TraceShaper shaper(MakeTrace("1\n2\n3\n4\n"));
  shaper.Start(0);
  EXPECT_EQ(shaper.Depart(0, 100), 1 * kMs);
  // Ready at 2.5 ms: what was left of 1 ms and all of 2 ms went unused.
  EXPECT_EQ(shaper.Depart(2 * kMs + kMs / 2, 1500), 3 * kMs);
  // Ready exactly at an opportunity: too late for it, as in mahimahi.
  EXPECT_EQ(shaper.Depart(4 * kMs, 1500), 5 * kMs);
  // The last opportunity of a pass (8 ms) is also where the next pass starts.
  EXPECT_EQ(shaper.Depart(7 * kMs + 1, 1500), 8 * kMs);
  EXPECT_EQ(shaper.Depart(7 * kMs + 1, 1500), 9 * kMs);
}

TEST(TraceShaperTest, FindsItsPlaceAfterAnIdleStretch) {
  TraceShaper shaper(MakeTrace("2\n10\n"));
  shaper.Start(0);
  // 1000 ms later: pass 100 starts at 1000 ms, with opportunities at 1002 and 1010 ms.
  EXPECT_EQ(shaper.Depart(1000 * kMs + 1, 1500), 1002 * kMs);
  EXPECT_EQ(shaper.Depart(1000 * kMs + 1, 1500), 1010 * kMs);
  EXPECT_EQ(shaper.Depart(1000 * kMs + 1, 1500), 1012 * kMs);
}

TEST(TraceShaperTest, ResetDropsClaimedOpportunities) {
  TraceShaper shaper(MakeTrace("1\n2\n3\n4\n"));
  shaper.Start(0);
  EXPECT_EQ(shaper.Depart(0, 1500), 1 * kMs);
  EXPECT_EQ(shaper.Depart(0, 1500), 2 * kMs);
  shaper.Reset();
  EXPECT_EQ(shaper.Depart(0, 1500), 1 * kMs);
}

}  // namespace
}  // namespace nslab::impair
