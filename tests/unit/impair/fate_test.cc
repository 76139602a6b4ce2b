#include "daemon/impair/fate.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/impair/stats.h"

namespace nslab::impair {
namespace {

using testing::HalfWidth99;

constexpr int64_t kMs = 1'000'000;

TimePoint At(int64_t ns) { return FromNanos(ns); }

// The tests of netem's semantics send frames of one traffic class.
constexpr uint64_t kFlow = 0x1234;

// Everything observable about a fate, for comparing sequences.
struct Observed {
  FateKind kind;
  int64_t deliver_ns;
  bool reordered;
  int64_t corrupt_bit;
  bool duplicated;
  FateKind duplicate_kind;
  int64_t duplicate_ns;

  bool operator==(const Observed&) const = default;
};

Observed Observe(const Fate& fate) {
  return Observed{fate.original.kind,
                  ToNanos(fate.original.deliver_at),
                  fate.original.reordered,
                  fate.original.corrupt_bit ? *fate.original.corrupt_bit : -1,
                  fate.duplicated,
                  fate.duplicate.kind,
                  ToNanos(fate.duplicate.deliver_at)};
}

ImpairmentSpec Everything() {
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.jitter_ns = 2 * kMs;
  spec.delay_correlation = ScaledPercent(25);
  spec.distribution = NormalTable();
  spec.loss = GilbertElliottParams::FromNetemArgs(5, 30, 50, 1);
  spec.duplicate = ScaledPercent(5);
  spec.corrupt = ScaledPercent(5);
  spec.reorder = ScaledPercent(10);
  spec.reorder_gap = 3;
  return spec;
}

std::vector<Observed> DecideMany(const ImpairmentSpec& spec, uint64_t seed, int frames = 2000) {
  FateEngine engine(spec, seed);
  std::vector<Observed> fates;
  for (int i = 0; i < frames; ++i) {
    fates.push_back(Observe(engine.Decide(kFlow, 100 + i % 1400, At(i * 100'000), 0)));
  }
  return fates;
}

TEST(FateEngineTest, SameSeedSameFatesDifferentSeedDifferentFates) {
  const std::vector<Observed> a = DecideMany(Everything(), 42);
  EXPECT_EQ(a, DecideMany(Everything(), 42));
  EXPECT_NE(a, DecideMany(Everything(), 43));
}

TEST(FateEngineTest, NoImpairmentDeliversAtOnce) {
  FateEngine engine(ImpairmentSpec(), 1);
  const Fate fate = engine.Decide(kFlow, 1500, At(7), 0);
  EXPECT_EQ(fate.original.kind, FateKind::kScheduled);
  EXPECT_EQ(ToNanos(fate.original.deliver_at), 7);
  EXPECT_FALSE(fate.duplicated);
  EXPECT_FALSE(fate.original.corrupt_bit);
  EXPECT_FALSE(fate.original.reordered);
}

TEST(FateEngineTest, GapReordersEveryGapthFrame) {
  // reorder 100% gap 5: frames 5, 10, 15, ... (1-based) skip the delay.
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.reorder = ScaledPercent(100);
  spec.reorder_gap = 5;
  FateEngine engine(spec, 1);
  for (int n = 1; n <= 30; ++n) {
    const Fate fate = engine.Decide(kFlow, 100, At(n * kMs), 0);
    const bool expect_reordered = n % 5 == 0;
    EXPECT_EQ(fate.original.reordered, expect_reordered) << "frame " << n;
    EXPECT_EQ(ToNanos(fate.original.deliver_at), n * kMs + (expect_reordered ? 0 : 10 * kMs));
  }
}

TEST(FateEngineTest, PartialReorderWaitsForTheGapThenTriesEachFrame) {
  // reorder 50% gap 4: after a reordered frame at least 3 frames are delayed; from then on
  // each frame is reordered with probability 1/2, so the distance between reordered frames is
  // 3 + geometric(1/2): mean 5.
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.reorder = ScaledPercent(50);
  spec.reorder_gap = 4;
  FateEngine engine(spec, 2);
  int last = 0;
  int reordered = 0;
  double total_distance = 0;
  for (int n = 1; n <= 20000; ++n) {
    if (engine.Decide(kFlow, 100, At(n), 0).original.reordered) {
      ASSERT_GE(n - last, 4) << "frame " << n;
      total_distance += n - last;
      last = n;
      ++reordered;
    }
  }
  EXPECT_NEAR(total_distance / reordered, 5.0, 0.15);
}

TEST(FateEngineTest, GapOneReordersWithTheGivenProbability) {
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.reorder = ScaledPercent(25);
  spec.reorder_gap = 1;
  FateEngine engine(spec, 3);
  const int n = 100'000;
  int reordered = 0;
  for (int i = 0; i < n; ++i) {
    reordered += engine.Decide(kFlow, 100, At(i), 0).original.reordered;
  }
  EXPECT_NEAR(reordered, 0.25 * n, HalfWidth99(n, 0.25 * 0.75));
}

TEST(FateEngineTest, DuplicateAndCorruptRates) {
  ImpairmentSpec spec;
  spec.duplicate = ScaledPercent(10);
  spec.corrupt = ScaledPercent(5);
  FateEngine engine(spec, 4);
  const int n = 100'000;
  int duplicated = 0;
  int corrupted = 0;  // both copies can be corrupted, each with its own draw
  int copies = 0;
  for (int i = 0; i < n; ++i) {
    const Fate fate = engine.Decide(kFlow, 64, At(i), 0);
    ASSERT_EQ(fate.original.kind, FateKind::kScheduled);
    ++copies;
    if (fate.original.corrupt_bit) {
      ASSERT_LT(*fate.original.corrupt_bit, 64u * 8);
      ++corrupted;
    }
    if (fate.duplicated) {
      ++duplicated;
      ++copies;
      corrupted += fate.duplicate.corrupt_bit.has_value();
      EXPECT_EQ(fate.duplicate.kind, FateKind::kScheduled);
    }
  }
  EXPECT_NEAR(duplicated, 0.1 * n, HalfWidth99(n, 0.1 * 0.9));
  EXPECT_NEAR(corrupted, 0.05 * copies, HalfWidth99(copies, 0.05 * 0.95));
}

TEST(FateEngineTest, CorruptionCoversTheWholeFrame) {
  ImpairmentSpec spec;
  spec.corrupt = ScaledPercent(100);
  FateEngine engine(spec, 5);
  std::vector<int> hits(3 * 8);
  for (int i = 0; i < 2400; ++i) {
    ++hits[*engine.Decide(kFlow, 3, At(i), 0).original.corrupt_bit];
  }
  for (int bit = 0; bit < 24; ++bit) {
    EXPECT_GT(hits[bit], 50) << "bit " << bit;
  }
  EXPECT_FALSE(engine.Decide(kFlow, 0, At(0), 0).original.corrupt_bit);  // nothing to flip
}

TEST(FateEngineTest, LossCancelsTheDuplicateFirst) {
  // netem counts copies: a duplicated frame that is also "lost" still goes through once.
  ImpairmentSpec spec;
  spec.duplicate = ScaledPercent(100);
  spec.loss = RandomLossParams{ScaledPercent(100), 0};
  FateEngine engine(spec, 6);
  const Fate fate = engine.Decide(kFlow, 100, At(0), 0);
  EXPECT_EQ(fate.original.kind, FateKind::kScheduled);
  EXPECT_FALSE(fate.duplicated);
}

TEST(FateEngineTest, DuplicateGoesThroughLossAndDelayOnItsOwn) {
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.jitter_ns = 5 * kMs;
  spec.duplicate = ScaledPercent(100);
  FateEngine engine(spec, 7);
  int different = 0;
  for (int i = 0; i < 100; ++i) {
    const Fate fate = engine.Decide(kFlow, 100, At(0), 0);
    ASSERT_TRUE(fate.duplicated);
    different += fate.duplicate.deliver_at != fate.original.deliver_at;
  }
  EXPECT_GT(different, 90);
}

TEST(FateEngineTest, TailDropAtTheLimit) {
  ImpairmentSpec spec;
  spec.limit_packets = 3;
  FateEngine engine(spec, 8);
  EXPECT_EQ(engine.Decide(kFlow, 100, At(0), 2).original.kind, FateKind::kScheduled);
  EXPECT_EQ(engine.Decide(kFlow, 100, At(0), 3).original.kind, FateKind::kQueueFull);
  EXPECT_EQ(engine.Decide(kFlow, 100, At(0), 4).original.kind, FateKind::kQueueFull);
}

TEST(FateEngineTest, JitterReordersUnlessRateIsSet) {
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.jitter_ns = 5 * kMs;
  auto inversions = [](const ImpairmentSpec& s) {
    FateEngine engine(s, 9);
    int count = 0;
    int64_t last = 0;
    for (int i = 0; i < 1000; ++i) {
      const int64_t t = ToNanos(engine.Decide(kFlow, 100, At(i * 100'000), 0).original.deliver_at);
      count += t < last;
      last = t;
    }
    return count;
  };
  EXPECT_GT(inversions(spec), 100);
  spec.rate_bps = 1'000'000'000;
  EXPECT_EQ(inversions(spec), 0);
}

TEST(FateEngineTest, RateAddsSerializationAfterTheDelay) {
  // netem: time_to_send = max(last, now + delay) + 8L/R.
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.rate_bps = 8'000'000;  // 1000 bytes per ms
  FateEngine engine(spec, 10);
  EXPECT_EQ(ToNanos(engine.Decide(kFlow, 1000, At(0), 0).original.deliver_at), 11 * kMs);
  EXPECT_EQ(ToNanos(engine.Decide(kFlow, 1000, At(0), 1).original.deliver_at), 12 * kMs);
  EXPECT_EQ(ToNanos(engine.Decide(kFlow, 1000, At(5 * kMs), 2).original.deliver_at), 16 * kMs);
}

TEST(FateEngineTest, ReconfigureKeepsTheRateQueue) {
  ImpairmentSpec slow;
  slow.rate_bps = 8'000'000;
  FateEngine engine(slow, 11);
  EXPECT_EQ(ToNanos(engine.Decide(kFlow, 10'000, At(0), 0).original.deliver_at), 10 * kMs);
  ImpairmentSpec fast;
  fast.rate_bps = 80'000'000;
  engine.Reconfigure(fast);
  EXPECT_EQ(ToNanos(engine.Decide(kFlow, 10'000, At(0), 1).original.deliver_at), 11 * kMs);
}

// Traffic classes. ---------------------------------------------------------------------------

// Class kFlow's fates, 2000 frames 0.1 ms apart, with `others` frames of five other classes
// put at random places (drawn from `placement`) in between, at the time of the frame before.
std::vector<Observed> FatesAmongOthers(const ImpairmentSpec& spec, uint64_t seed, int others,
                                       uint64_t placement = 1) {
  constexpr int kFrames = 2000;
  FateEngine engine(spec, seed);
  Rng place(placement);
  std::vector<Observed> fates;
  int64_t now = 0;
  while (fates.size() < kFrames) {
    const int n = static_cast<int>(fates.size());
    if (others > 0 && place.Below(kFrames + others) < static_cast<uint32_t>(others)) {
      engine.Decide(kFlow + 1 + place.Below(5), 64 + place.Below(1400), At(now), 0);
      --others;
      continue;
    }
    now = n * 100'000;
    fates.push_back(Observe(engine.Decide(kFlow, 100 + n % 1400, At(now), 0)));
  }
  return fates;
}

TEST(FateEngineTest, AClassMeetsTheSameFatesWhateverElseIsInterleaved) {
  const std::vector<Observed> alone = FatesAmongOthers(Everything(), 42, 0);
  for (uint64_t placement : {1, 2, 3}) {
    EXPECT_EQ(FatesAmongOthers(Everything(), 42, 3000, placement), alone) << placement;
  }
  // Not a property of the spec: another seed gives other fates, interleaved or not.
  EXPECT_NE(FatesAmongOthers(Everything(), 43, 3000), alone);
  EXPECT_NE(FatesAmongOthers(Everything(), 43, 0), alone);
}

TEST(FateEngineTest, ClassesHaveStreamsOfTheirOwn) {
  ImpairmentSpec spec;
  spec.loss = RandomLossParams{ScaledPercent(50), 0};
  FateEngine engine(spec, 42);
  std::vector<bool> a;
  std::vector<bool> b;
  for (int i = 0; i < 200; ++i) {
    a.push_back(engine.Decide(kFlow, 100, At(i), 0).original.kind == FateKind::kLost);
    b.push_back(engine.Decide(kFlow + 1, 100, At(i), 0).original.kind == FateKind::kLost);
  }
  EXPECT_NE(a, b);
  EXPECT_EQ(engine.classes().size(), 2u);
}

TEST(FateEngineTest, WithARateTheClassesKeepTheirFatesAndQueueBehindEachOther) {
  ImpairmentSpec spec = Everything();
  spec.reorder = 0;
  spec.rate_bps = 100'000'000;
  const std::vector<Observed> alone = FatesAmongOthers(spec, 42, 0);
  const std::vector<Observed> among = FatesAmongOthers(spec, 42, 3000);
  ASSERT_EQ(alone.size(), among.size());
  int later = 0;
  for (size_t i = 0; i < alone.size(); ++i) {
    Observed same_time = among[i];
    later += same_time.deliver_ns > alone[i].deliver_ns;
    same_time.deliver_ns = alone[i].deliver_ns;
    same_time.duplicate_ns = alone[i].duplicate_ns;
    EXPECT_EQ(same_time, alone[i]) << "frame " << i;
  }
  EXPECT_GT(later, 0);  // the other classes' frames took the link's time
}

TEST(FateEngineTest, JitterWithARateKeepsOrderAcrossClasses) {
  // netem's "last packet in queue is reference point" is the link's, not a class's.
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.jitter_ns = 5 * kMs;
  spec.rate_bps = 1'000'000'000;
  FateEngine engine(spec, 9);
  int64_t last = 0;
  for (int i = 0; i < 1000; ++i) {
    const int64_t t =
        ToNanos(engine.Decide(kFlow + i % 7, 100, At(i * 100'000), 0).original.deliver_at);
    ASSERT_GE(t, last) << "frame " << i;
    last = t;
  }
}

TEST(FateEngineTest, ReconfigureActsOnEveryClassAlike) {
  ImpairmentSpec before = Everything();
  ImpairmentSpec after = Everything();
  after.loss = RandomLossParams{ScaledPercent(30), ScaledPercent(20)};
  after.delay_ns = 3 * kMs;
  after.jitter_ns = 0;
  auto run = [&](bool others) {
    FateEngine engine(before, 42);
    std::vector<Observed> fates;
    for (int i = 0; i < 600; ++i) {
      if (i == 300) {
        engine.Reconfigure(after);
      }
      if (others && i % 3 == 0) {
        engine.Decide(kFlow + 1, 100, At(i * 100'000), 0);
      }
      fates.push_back(Observe(engine.Decide(kFlow, 100, At(i * 100'000), 0)));
    }
    return fates;
  };
  const std::vector<Observed> alone = run(false);
  EXPECT_EQ(run(true), alone);
  // The new spec is in force: frames after the change wait 3 ms, not 10 +- jitter.
  for (int i = 300; i < 600; ++i) {
    if (alone[i].kind == FateKind::kScheduled && !alone[i].reordered) {
      EXPECT_EQ(alone[i].deliver_ns - i * 100'000, 3 * kMs) << "frame " << i;
    }
  }
}

TEST(FateEngineTest, ASpecThatDrawsNothingMakesNoClasses) {
  // Delay and rate alone draw nothing: classes would only cost time, and a class made then
  // would start its stream differently from one first seen once a random impairment is set.
  ImpairmentSpec spec;
  spec.delay_ns = 10 * kMs;
  spec.rate_bps = 1'000'000'000;
  spec.loss = RandomLossParams{0, 0};
  FateEngine engine(spec, 42);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(engine.Decide(kFlow + i, 100, At(0), 0).original.kind, FateKind::kScheduled);
  }
  EXPECT_EQ(engine.classes().size(), 0u);
  spec.loss = RandomLossParams{ScaledPercent(50), 0};
  engine.Reconfigure(spec);
  engine.Decide(kFlow, 100, At(0), 0);
  EXPECT_EQ(engine.classes().size(), 1u);
}

TEST(FateEngineTest, AForgottenClassStartsItsStreamAgain) {
  ImpairmentSpec spec;
  spec.loss = RandomLossParams{ScaledPercent(50), 0};
  spec.corrupt = ScaledPercent(50);
  FateEngine engine(spec, 42, /*max_classes=*/2);
  auto thirty = [&engine](uint64_t key) {
    std::vector<Observed> fates;
    for (int i = 0; i < 30; ++i) {
      fates.push_back(Observe(engine.Decide(key, 100, At(0), 0)));
    }
    return fates;
  };
  const std::vector<Observed> first = thirty(kFlow);
  thirty(kFlow + 1);
  EXPECT_NE(thirty(kFlow), first);  // still held: its stream carries on
  thirty(kFlow + 2);                // the table is full: kFlow + 1 goes, not kFlow
  thirty(kFlow + 3);                // now kFlow goes
  EXPECT_EQ(engine.classes().size(), 2u);
  EXPECT_EQ(engine.classes().evictions(), 2u);
  EXPECT_EQ(thirty(kFlow), first);
}

}  // namespace
}  // namespace nslab::impair
