#include "daemon/wire/pipeline.h"

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace nslab::wire {
namespace {

using impair::FromNanos;
using impair::ToNanos;

constexpr int64_t kMs = 1'000'000;

TimePoint At(int64_t ns) { return FromNanos(ns); }

// A frame whose bytes say which frame it is. Frames of 14 bytes or more carry `ethertype`,
// which makes them one traffic class (a class has a random stream of its own).
std::vector<std::byte> Frame(uint32_t id, size_t size = 100, uint16_t ethertype = 0x88b5) {
  std::vector<std::byte> frame(size);
  for (size_t i = 0; i < size; ++i) {
    frame[i] = std::byte{static_cast<uint8_t>(id + i)};
  }
  std::memcpy(frame.data(), &id, std::min(size, sizeof(id)));
  if (size >= 14) {
    frame[12] = std::byte{static_cast<uint8_t>(ethertype >> 8)};
    frame[13] = std::byte{static_cast<uint8_t>(ethertype)};
  }
  return frame;
}

uint32_t IdOf(std::span<const std::byte> frame) {
  uint32_t id = 0;
  std::memcpy(&id, frame.data(), sizeof(id));
  return id;
}

struct Delivery {
  uint32_t id;
  int64_t at_ns;
  size_t size;
  bool operator==(const Delivery&) const = default;
};

std::vector<Delivery> Pop(ImpairmentPipeline& pipeline, int64_t now_ns) {
  std::vector<Delivery> out;
  pipeline.PopDue(At(now_ns), [&](std::span<const std::byte> frame, TimePoint due) {
    out.push_back(Delivery{IdOf(frame), ToNanos(due), frame.size()});
  });
  return out;
}

ImpairmentPipeline Make(const nslab::v1::Impairment& impairment, uint64_t seed = 1) {
  absl::StatusOr<ImpairmentPipeline> pipeline = ImpairmentPipeline::Create(impairment, seed);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return *std::move(pipeline);
}

TEST(ImpairmentPipelineTest, NoImpairmentForwardsAtOnceAndIntact) {
  ImpairmentPipeline pipeline = Make(nslab::v1::Impairment());
  const std::vector<std::byte> frame = Frame(7, 1500);
  const Verdict verdict = pipeline.Offer(frame, At(5));
  EXPECT_EQ(verdict.frame.outcome, Outcome::kScheduled);
  EXPECT_EQ(ToNanos(verdict.frame.deliver_at), 5);
  EXPECT_FALSE(verdict.duplicate);
  EXPECT_EQ(pipeline.NextDeadline(), At(5));
  std::vector<std::byte> received;
  const size_t delivered = pipeline.PopDue(
      At(5), [&](std::span<const std::byte> f, TimePoint) { received.assign(f.begin(), f.end()); });
  EXPECT_EQ(delivered, 1u);
  EXPECT_EQ(received, frame);
  EXPECT_EQ(pipeline.NextDeadline(), std::nullopt);
  EXPECT_EQ(pipeline.counters().forwarded, 1u);
  EXPECT_EQ(pipeline.counters().bytes, 1500u);
  EXPECT_EQ(pipeline.counters().queue_depth, 0u);
}

TEST(ImpairmentPipelineTest, DelayHoldsFramesUntilDue) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(10'000);
  ImpairmentPipeline pipeline = Make(impairment);
  pipeline.Offer(Frame(1), At(0));
  pipeline.Offer(Frame(2), At(1 * kMs));
  EXPECT_EQ(pipeline.counters().queue_depth, 2u);
  EXPECT_EQ(pipeline.NextDeadline(), At(10 * kMs));
  EXPECT_TRUE(Pop(pipeline, 10 * kMs - 1).empty());
  EXPECT_EQ(Pop(pipeline, 10 * kMs), (std::vector<Delivery>{{1, 10 * kMs, 100}}));
  EXPECT_EQ(pipeline.NextDeadline(), At(11 * kMs));
  EXPECT_EQ(Pop(pipeline, 20 * kMs), (std::vector<Delivery>{{2, 11 * kMs, 100}}));
}

TEST(ImpairmentPipelineTest, RateSerializesFramesExactly) {
  // 20 frames of 1250 bytes at 10 Mbit/s: 1 ms each, leaving at 1, 2, ... 20 ms.
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(10'000'000);
  ImpairmentPipeline pipeline = Make(impairment);
  for (uint32_t i = 1; i <= 20; ++i) {
    EXPECT_EQ(ToNanos(pipeline.Offer(Frame(i, 1250), At(0)).frame.deliver_at), i * kMs);
  }
  for (uint32_t i = 1; i <= 20; ++i) {
    EXPECT_TRUE(Pop(pipeline, i * kMs - 1).empty()) << "frame " << i;
    EXPECT_EQ(Pop(pipeline, i * kMs), (std::vector<Delivery>{{i, i * kMs, 1250}}));
  }
}

TEST(ImpairmentPipelineTest, QueueLimitTailDrops) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(1'000'000);
  impairment.set_limit_packets(5);
  ImpairmentPipeline pipeline = Make(impairment);
  int scheduled = 0;
  for (uint32_t i = 0; i < 12; ++i) {
    const Verdict verdict = pipeline.Offer(Frame(i), At(0));
    if (i < 5) {
      EXPECT_EQ(verdict.frame.outcome, Outcome::kScheduled);
    } else {
      EXPECT_EQ(verdict.frame.outcome, Outcome::kDroppedQueueFull);
    }
    scheduled += verdict.frame.outcome == Outcome::kScheduled;
  }
  EXPECT_EQ(scheduled, 5);
  EXPECT_EQ(pipeline.counters().dropped_queue_full, 7u);
  EXPECT_EQ(pipeline.counters().queue_depth, 5u);
  // Once one has left there is room for one more.
  EXPECT_EQ(Pop(pipeline, 800'000).size(), 1u);
  EXPECT_EQ(pipeline.Offer(Frame(99), At(800'000)).frame.outcome, Outcome::kScheduled);
  EXPECT_EQ(pipeline.Offer(Frame(100), At(800'000)).frame.outcome, Outcome::kDroppedQueueFull);
}

TEST(ImpairmentPipelineTest, ReorderGapSendsEveryGapthFrameAhead) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(10'000);
  impairment.set_reorder(100);
  impairment.set_reorder_gap(3);
  ImpairmentPipeline pipeline = Make(impairment);
  for (uint32_t i = 1; i <= 9; ++i) {
    pipeline.Offer(Frame(i), At(i * kMs));
  }
  std::vector<uint32_t> order;
  for (const Delivery& d : Pop(pipeline, 100 * kMs)) {
    order.push_back(d.id);
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{3, 6, 9, 1, 2, 4, 5, 7, 8}));
  EXPECT_EQ(pipeline.counters().reordered, 3u);
}

// Each traffic class keeps its own reorder counter (and stream): frames of another class in
// between change neither which frames of the first go ahead nor what the second sees.
TEST(ImpairmentPipelineTest, ReorderGapCountsTheFramesOfEachClass) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(10'000);
  impairment.set_reorder(100);
  impairment.set_reorder_gap(3);
  ImpairmentPipeline pipeline = Make(impairment);
  for (uint32_t i = 1; i <= 6; ++i) {
    pipeline.Offer(Frame(i), At(i * kMs));
    pipeline.Offer(Frame(100 + i, 100, 0x0806), At(i * kMs));  // ARP, say
  }
  std::vector<uint32_t> order;
  for (const Delivery& d : Pop(pipeline, 100 * kMs)) {
    order.push_back(d.id);
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{3, 103, 6, 106, 1, 101, 2, 102, 4, 104, 5, 105}));
  EXPECT_EQ(pipeline.counters().reordered, 4u);
}

TEST(ImpairmentPipelineTest, DuplicatesAndCorruptionAreCounted) {
  nslab::v1::Impairment impairment;
  impairment.set_duplicate(20);
  impairment.set_corrupt(10);
  ImpairmentPipeline pipeline = Make(impairment, 3);
  const int n = 20'000;
  int duplicates = 0;
  int corrupted = 0;
  for (int i = 0; i < n; ++i) {
    const std::vector<std::byte> frame = Frame(i, 64);
    const Verdict verdict = pipeline.Offer(frame, At(i));
    duplicates += verdict.duplicate.has_value();
    corrupted += verdict.frame.corrupted_bit.has_value() +
                 (verdict.duplicate && verdict.duplicate->corrupted_bit.has_value());
    int popped = 0;
    pipeline.PopDue(At(i), [&](std::span<const std::byte> out, TimePoint) {
      // Delivered copies differ from the original in at most one bit.
      int bits = 0;
      for (size_t b = 0; b < out.size(); ++b) {
        bits += std::popcount(static_cast<uint8_t>(out[b] ^ frame[b]));
      }
      EXPECT_LE(bits, 1);
      ++popped;
    });
    EXPECT_EQ(popped, verdict.duplicate ? 2 : 1);
  }
  EXPECT_EQ(pipeline.counters().duplicated, static_cast<uint64_t>(duplicates));
  EXPECT_EQ(pipeline.counters().corrupted, static_cast<uint64_t>(corrupted));
  EXPECT_EQ(pipeline.counters().forwarded, static_cast<uint64_t>(n + duplicates));
  EXPECT_NEAR(duplicates, 0.2 * n, 0.02 * n);
  EXPECT_NEAR(corrupted, 0.1 * (n + duplicates), 0.01 * (n + duplicates));
}

TEST(ImpairmentPipelineTest, CorruptedBitIsFlippedInTheHeldCopy) {
  nslab::v1::Impairment impairment;
  impairment.set_corrupt(100);
  ImpairmentPipeline pipeline = Make(impairment);
  const std::vector<std::byte> frame = Frame(1, 200);
  const Verdict verdict = pipeline.Offer(frame, At(0));
  ASSERT_TRUE(verdict.frame.corrupted_bit);
  const uint32_t bit = *verdict.frame.corrupted_bit;
  pipeline.PopDue(At(0), [&](std::span<const std::byte> out, TimePoint) {
    std::vector<std::byte> expected = frame;
    expected[bit / 8] ^= std::byte{static_cast<uint8_t>(1u << (bit % 8))};
    EXPECT_TRUE(std::equal(out.begin(), out.end(), expected.begin(), expected.end()));
  });
}

TEST(ImpairmentPipelineTest, RuntimeChangeAppliesToNewFramesOnly) {
  nslab::v1::Impairment slow;
  slow.set_delay_us(50'000);
  ImpairmentPipeline pipeline = Make(slow);
  pipeline.Offer(Frame(1), At(0));
  nslab::v1::Impairment fast;
  fast.set_delay_us(1'000);
  ASSERT_TRUE(pipeline.SetImpairment(fast).ok());
  pipeline.Offer(Frame(2), At(1 * kMs));
  EXPECT_EQ(Pop(pipeline, 100 * kMs),
            (std::vector<Delivery>{{2, 2 * kMs, 100}, {1, 50 * kMs, 100}}));

  nslab::v1::Impairment lossy;
  lossy.set_loss(100);
  ASSERT_TRUE(pipeline.SetImpairment(lossy).ok());
  EXPECT_EQ(pipeline.Offer(Frame(3), At(200 * kMs)).frame.outcome, Outcome::kDroppedLoss);
  EXPECT_EQ(pipeline.counters().dropped_loss, 1u);
}

TEST(ImpairmentPipelineTest, InvalidChangeChangesNothing) {
  nslab::v1::Impairment delay;
  delay.set_delay_us(1'000);
  ImpairmentPipeline pipeline = Make(delay);
  nslab::v1::Impairment bad;
  bad.set_loss(101);
  const absl::Status status = pipeline.SetImpairment(bad);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pipeline.spec().delay_ns, 1 * kMs);
  EXPECT_EQ(ToNanos(pipeline.Offer(Frame(1), At(0)).frame.deliver_at), 1 * kMs);
}

TEST(ImpairmentPipelineTest, LinkDownDropsInFlightAndOffered) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(10'000);
  ImpairmentPipeline pipeline = Make(impairment);
  pipeline.Offer(Frame(1), At(0));
  pipeline.Offer(Frame(2), At(0));
  pipeline.SetLinkUp(false);
  EXPECT_FALSE(pipeline.link_up());
  EXPECT_EQ(pipeline.counters().dropped_link_down, 2u);
  EXPECT_EQ(pipeline.counters().queue_depth, 0u);
  EXPECT_EQ(pipeline.NextDeadline(), std::nullopt);
  EXPECT_EQ(pipeline.Offer(Frame(3), At(1)).frame.outcome, Outcome::kDroppedLinkDown);
  EXPECT_EQ(pipeline.counters().dropped_link_down, 3u);
  EXPECT_TRUE(Pop(pipeline, 100 * kMs).empty());
  pipeline.SetLinkUp(true);
  pipeline.Offer(Frame(4), At(100 * kMs));
  EXPECT_EQ(Pop(pipeline, 110 * kMs), (std::vector<Delivery>{{4, 110 * kMs, 100}}));
}

TEST(ImpairmentPipelineTest, OversizeFramesAreDroppedAndCounted) {
  ImpairmentPipeline pipeline(impair::ImpairmentSpec(), 1, PipelineOptions{.max_frame_bytes = 256});
  EXPECT_EQ(pipeline.Offer(Frame(1, 256), At(0)).frame.outcome, Outcome::kScheduled);
  EXPECT_EQ(pipeline.Offer(Frame(2, 257), At(0)).frame.outcome, Outcome::kDroppedOversize);
  EXPECT_EQ(pipeline.counters().dropped_oversize, 1u);
}

TEST(ImpairmentPipelineTest, JitterReordersUnlessRateIsSet) {
  auto inversions = [](uint64_t rate_bps) {
    nslab::v1::Impairment impairment;
    impairment.set_delay_us(10'000);
    impairment.set_jitter_us(5'000);
    impairment.set_rate_bps(rate_bps);
    ImpairmentPipeline pipeline = Make(impairment);
    for (uint32_t i = 0; i < 500; ++i) {
      pipeline.Offer(Frame(i), At(i * 100'000));
    }
    int count = 0;
    uint32_t last = 0;
    for (const Delivery& d : Pop(pipeline, 1'000 * kMs)) {
      count += d.id < last;
      last = d.id;
    }
    return count;
  };
  EXPECT_GT(inversions(0), 50);
  EXPECT_EQ(inversions(1'000'000'000), 0);
}

TEST(ImpairmentPipelineTest, TraceDrivenDeliveryFollowsTheTraceAndLoops) {
  // Opportunities at 2, 3, 3 and 8 ms, then every 8 ms again.
  impair::ImpairmentSpec spec;
  absl::StatusOr<impair::DeliveryTrace> trace = impair::DeliveryTrace::Parse("2\n3\n3\n8\n");
  ASSERT_TRUE(trace.ok());
  spec.trace = std::make_shared<const impair::DeliveryTrace>(*std::move(trace));
  ImpairmentPipeline pipeline(spec, 1);
  const int64_t t0 = 1000 * kMs;
  std::vector<int64_t> expected;
  for (int64_t pass = 0; pass < 3; ++pass) {
    for (int64_t ms : {2, 3, 3, 8}) {
      expected.push_back(t0 + (pass * 8 + ms) * kMs);
    }
  }
  for (uint32_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(ToNanos(pipeline.Offer(Frame(i, 1500), At(t0)).frame.deliver_at), expected[i]);
  }
  std::vector<int64_t> delivered;
  for (const Delivery& d : Pop(pipeline, t0 + 100 * kMs)) {
    delivered.push_back(d.at_ns);
  }
  EXPECT_EQ(delivered, expected);
}

TEST(ImpairmentPipelineTest, TraceTextIsParsedByCreateAndANameAloneRefused) {
  nslab::v1::Impairment impairment;
  impairment.set_trace_file("cell.trace");
  EXPECT_EQ(ImpairmentPipeline::Create(impairment, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  impairment.set_trace("1\n2\n");
  EXPECT_TRUE(ImpairmentPipeline::Create(impairment, 1).ok());
}

std::vector<Delivery> RunEverything(uint64_t seed) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(5'000);
  impairment.set_jitter_us(2'000);
  impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_PARETONORMAL);
  impairment.set_loss(5);
  impairment.set_loss_correlation(25);
  impairment.set_duplicate(5);
  impairment.set_reorder(10);
  impairment.set_corrupt(5);
  impairment.set_limit_packets(50);
  ImpairmentPipeline pipeline = Make(impairment, seed);
  std::vector<Delivery> out;
  for (uint32_t i = 0; i < 3000; ++i) {
    pipeline.Offer(Frame(i, 60 + i % 1400), At(i * 50'000));
    for (const Delivery& d : Pop(pipeline, i * 50'000)) {
      out.push_back(d);
    }
  }
  for (const Delivery& d : Pop(pipeline, 10'000 * kMs)) {
    out.push_back(d);
  }
  return out;
}

TEST(ImpairmentPipelineTest, SameSeedReplaysDifferentSeedDiffers) {
  const std::vector<Delivery> a = RunEverything(42);
  EXPECT_EQ(a, RunEverything(42));
  EXPECT_NE(a, RunEverything(7));
}

TEST(ImpairmentPipelineTest, PassesThroughOnlyWhenUnimpairedUpAndEmpty) {
  ImpairmentPipeline pipeline = Make(nslab::v1::Impairment());
  EXPECT_TRUE(pipeline.passes_through());
  pipeline.CountPassedThrough(65000);
  EXPECT_EQ(pipeline.counters().offered, 1u);
  EXPECT_EQ(pipeline.counters().forwarded, 1u);
  EXPECT_EQ(pipeline.counters().bytes, 65000u);

  pipeline.SetLinkUp(false);
  EXPECT_FALSE(pipeline.passes_through());
  pipeline.SetLinkUp(true);

  nslab::v1::Impairment delay;
  delay.set_delay_us(1000);
  ASSERT_TRUE(pipeline.SetImpairment(delay).ok());
  EXPECT_FALSE(pipeline.passes_through());
  pipeline.Offer(Frame(1), At(0));

  // Back to no impairment: the held frame must leave first, or a bypassing frame would
  // overtake it.
  ASSERT_TRUE(pipeline.SetImpairment(nslab::v1::Impairment()).ok());
  EXPECT_FALSE(pipeline.passes_through());
  EXPECT_EQ(Pop(pipeline, 1 * kMs).size(), 1u);
  EXPECT_TRUE(pipeline.passes_through());
}

}  // namespace
}  // namespace nslab::wire
