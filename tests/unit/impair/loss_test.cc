#include "daemon/impair/loss.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/impair/stats.h"

namespace nslab::impair {
namespace {

using testing::ChainVariance;
using testing::HalfWidth99;
using testing::MeanRunLength;

constexpr size_t kDraws = 100'000;

std::vector<bool> Draw(const LossParams& params, uint64_t seed, size_t n = kDraws) {
  Rng rng(seed);
  LossModel model(params, rng);
  std::vector<bool> lost(n);
  for (size_t i = 0; i < n; ++i) {
    lost[i] = model.Lost(rng);
  }
  return lost;
}

size_t Count(const std::vector<bool>& events) {
  size_t count = 0;
  for (bool e : events) {
    count += e;
  }
  return count;
}

// The measured count lies within the 99% interval around n * rate.
void ExpectWithin99(const std::vector<bool>& lost, double rate, double variance) {
  const double expected = lost.size() * rate;
  EXPECT_NEAR(static_cast<double>(Count(lost)), expected, HalfWidth99(lost.size(), variance))
      << "expected loss rate " << rate;
}

TEST(ScaledPercentTest, MatchesIproute2) {
  EXPECT_EQ(ScaledPercent(0), 0u);
  EXPECT_EQ(ScaledPercent(100), std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(ScaledPercent(50), 2147483648u);  // rint(0.5 * UINT32_MAX), ties to even
  EXPECT_EQ(ScaledPercent(1), 42949673u);
  EXPECT_EQ(ScaledPercent(std::nan("")), 0u);
}

TEST(RandomLossTest, RateWithinBinomialInterval) {
  for (double percent : {1.0, 5.0, 30.0}) {
    const LossParams params = RandomLossParams{ScaledPercent(percent), 0};
    const double p = StationaryLossRate(params);
    EXPECT_NEAR(p, percent / 100, 1e-9);
    ExpectWithin99(Draw(params, 1), p, p * (1 - p));
  }
}

TEST(RandomLossTest, ZeroAndHundredPercent) {
  EXPECT_EQ(Count(Draw(RandomLossParams{0, 0}, 1, 1000)), 0u);
  EXPECT_EQ(Count(Draw(RandomLossParams{ScaledPercent(100), 0}, 1, 1000)), 1000u);
}

TEST(RandomLossTest, CorrelationRaisesBurstLength) {
  const double independent = MeanRunLength(Draw(RandomLossParams{ScaledPercent(50), 0}, 3));
  const double correlated =
      MeanRunLength(Draw(RandomLossParams{ScaledPercent(50), ScaledPercent(75)}, 3));
  EXPECT_NEAR(independent, 2.0, 0.05);  // geometric with p = 1/2
  EXPECT_GT(correlated, 1.5 * independent);
}

TEST(RandomLossTest, CorrelationKeepsASymmetricRate) {
  // netem's correlated source is a weighted mean, symmetric around the middle: at 50% the
  // rate stays 50% (at 1% it would not; see CorrelatedUniform). The draws are not independent,
  // so the interval here is a generous fixed one.
  const std::vector<bool> lost = Draw(RandomLossParams{ScaledPercent(50), ScaledPercent(75)}, 4);
  EXPECT_NEAR(static_cast<double>(Count(lost)) / lost.size(), 0.5, 0.02);
}

TEST(RandomLossTest, CorrelationLowersASmallRate) {
  // The documented netem caveat, kept on purpose so that both backends agree.
  const std::vector<bool> lost = Draw(RandomLossParams{ScaledPercent(5), ScaledPercent(80)}, 5);
  EXPECT_LT(static_cast<double>(Count(lost)) / lost.size(), 0.02);
}

// The loss indicator of `loss gemodel` as a chain over {good, bad} with per-state loss.
double GilbertElliottVariance(double p, double r, double loss_bad, double loss_good) {
  return ChainVariance({{1 - p, p}, {r, 1 - r}}, {loss_good, loss_bad});
}

TEST(GilbertElliottTest, MemorylessCaseWithinBinomialInterval) {
  // p + r = 1: the next state does not depend on the current one, so losses are independent
  // and the plain binomial interval applies.
  const LossParams params = GilbertElliottParams::FromNetemArgs(20, 80, 50, 5);
  const double rate = StationaryLossRate(params);
  EXPECT_NEAR(rate, 0.2 * 0.5 + 0.8 * 0.05, 1e-6);
  ExpectWithin99(Draw(params, 11), rate, rate * (1 - rate));
}

TEST(GilbertElliottTest, BurstyRateWithinInterval) {
  const LossParams params = GilbertElliottParams::FromNetemArgs(2, 25, 70, 0.5);
  const double rate = StationaryLossRate(params);
  EXPECT_NEAR(rate, (2.0 / 27) * 0.7 + (25.0 / 27) * 0.005, 1e-6);
  ExpectWithin99(Draw(params, 12), rate, GilbertElliottVariance(0.02, 0.25, 0.7, 0.005));
}

TEST(GilbertElliottTest, MeanBurstLengthIsOneOverR) {
  // Simple Gilbert (every frame in the bad state is lost): bursts are the stays in the bad
  // state, geometric with mean 1/r.
  const double r = 0.2;
  const std::vector<bool> lost = Draw(GilbertElliottParams::FromNetemArgs(1, 100 * r, 100, 0), 13);
  // About n * pi_bad * r bursts, each of standard deviation sqrt(1 - r) / r.
  const double bursts = kDraws * (0.01 / (0.01 + r)) * r;
  const double tolerance = 3 * std::sqrt(1 - r) / r / std::sqrt(bursts);
  EXPECT_NEAR(MeanRunLength(lost), 1 / r, tolerance);
}

TEST(GilbertElliottTest, ThirdArgumentIsLossInBadState) {
  // `loss gemodel 10% 10% 100% 0%` loses everything in the bad state and nothing in the good:
  // the kernel's h is 0 (iproute2 stores UINT32_MAX - "1-h").
  const GilbertElliottParams ge = GilbertElliottParams::FromNetemArgs(10, 10, 100, 0);
  EXPECT_EQ(ge.h, 0u);
  EXPECT_EQ(ge.k1, 0u);
  EXPECT_NEAR(StationaryLossRate(ge), 0.5, 1e-6);
}

TEST(MarkovLossTest, RateWithinInterval) {
  const double p13 = 0.05, p31 = 0.6, p32 = 0.2, p23 = 0.3, p14 = 0.02;
  const LossParams params =
      MarkovLossParams::FromPercent(100 * p13, 100 * p31, 100 * p32, 100 * p23, 100 * p14);
  // States in the model's numbering: 1 rx in gap, 2 rx in burst, 3 lost in burst, 4 isolated.
  const std::vector<std::vector<double>> transition = {
      {1 - p13 - p14, 0, p13, p14},
      {0, 1 - p23, p23, 0},
      {p31, p32, 1 - p31 - p32, 0},
      {1, 0, 0, 0},
  };
  const std::vector<double> lost_in = {0, 0, 1, 1};
  const double rate = StationaryLossRate(params);
  const double pi1 = 1 / (1 + p13 / p31 + p13 * p32 / (p31 * p23) + p14);
  EXPECT_NEAR(rate, pi1 * (p13 / p31 + p14), 1e-6);
  ExpectWithin99(Draw(params, 21), rate, ChainVariance(transition, lost_in));
}

TEST(MarkovLossTest, IsolatedLossesOnly) {
  // Without p13 the only losses are isolated ones (state 4), each followed by a delivery.
  const LossParams params = MarkovLossParams::FromPercent(0, 100, 0, 100, 10);
  const std::vector<bool> lost = Draw(params, 22);
  EXPECT_EQ(MeanRunLength(lost), 1.0);
  const double rate = StationaryLossRate(params);
  EXPECT_NEAR(rate, 0.1 / 1.1, 1e-6);
  ExpectWithin99(lost, rate, ChainVariance({{0.9, 0.1}, {1, 0}}, {0, 1}));
}

TEST(MarkovLossTest, BurstsFollowP31) {
  // p32 = 0: a burst is a stay in state 3, geometric with mean 1/p31.
  const std::vector<bool> lost = Draw(MarkovLossParams::FromPercent(1, 25, 0, 100, 0), 23);
  EXPECT_NEAR(MeanRunLength(lost), 4.0, 0.4);
}

TEST(LossModelTest, SameSeedSameSequence) {
  const LossParams params = GilbertElliottParams::FromNetemArgs(5, 30, 60, 1);
  EXPECT_EQ(Draw(params, 99, 5000), Draw(params, 99, 5000));
  EXPECT_NE(Draw(params, 99, 5000), Draw(params, 100, 5000));
}

}  // namespace
}  // namespace nslab::impair
