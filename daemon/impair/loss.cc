#include "daemon/impair/loss.h"

#include <limits>

namespace nslab::impair {
namespace {

constexpr double kScale = std::numeric_limits<uint32_t>::max();

double Fraction(uint32_t scaled) { return scaled / kScale; }

// Sums of two scaled probabilities are compared in 64 bits: the kernel adds them as u32, which
// only matters for sums above 100%, and validation rejects those.
uint64_t Sum(uint32_t a, uint32_t b) { return static_cast<uint64_t>(a) + b; }

}  // namespace

GilbertElliottParams GilbertElliottParams::FromNetemArgs(double p, double r, double one_minus_h,
                                                         double one_minus_k) {
  GilbertElliottParams ge;
  ge.p = ScaledPercent(p);
  ge.r = ScaledPercent(r);
  ge.h = std::numeric_limits<uint32_t>::max() - ScaledPercent(one_minus_h);
  ge.k1 = ScaledPercent(one_minus_k);
  return ge;
}

MarkovLossParams MarkovLossParams::FromPercent(double p13, double p31, double p32, double p23,
                                               double p14) {
  return MarkovLossParams{ScaledPercent(p13), ScaledPercent(p31), ScaledPercent(p32),
                          ScaledPercent(p23), ScaledPercent(p14)};
}

double StationaryLossRate(const LossParams& params) {
  if (const auto* random = std::get_if<RandomLossParams>(&params)) {
    return random->probability == 0 ? 0.0 : (random->probability + 1.0) / 4294967296.0;
  }
  if (const auto* ge = std::get_if<GilbertElliottParams>(&params)) {
    const double p = Fraction(ge->p);
    const double r = Fraction(ge->r);
    if (p + r == 0) {
      return Fraction(ge->k1);  // never leaves the good state
    }
    const double bad = p / (p + r);
    return bad * (1 - Fraction(ge->h)) + (1 - bad) * Fraction(ge->k1);
  }
  if (const auto* m = std::get_if<MarkovLossParams>(&params)) {
    // Balance equations of the chain as loss_4state() walks it (4 always returns to 1, 2 only
    // leaves to 3): pi4 = p14 pi1, pi3 = p13 pi1 / p31, pi2 = p32 pi3 / p23.
    const double p13 = Fraction(m->p13), p31 = Fraction(m->p31), p32 = Fraction(m->p32),
                 p23 = Fraction(m->p23), p14 = Fraction(m->p14);
    if (p13 == 0) {
      return p14 / (1 + p14);
    }
    if (p31 == 0) {  // the chain ends up in the burst states 2 and 3 for good
      if (p32 == 0) {
        return 1.0;
      }
      return p23 == 0 ? 0.0 : p23 / (p23 + p32);
    }
    if (p32 > 0 && p23 == 0) {
      return 0.0;  // ends up in state 2 for good
    }
    const double pi3_over_pi1 = p13 / p31;
    const double pi2_over_pi1 = p32 == 0 ? 0 : pi3_over_pi1 * p32 / p23;
    const double pi1 = 1 / (1 + pi2_over_pi1 + pi3_over_pi1 + p14);
    return pi1 * (pi3_over_pi1 + p14);
  }
  return 0;
}

LossModel::LossModel(const LossParams& params, Rng& rng) : params_(params) {
  if (const auto* random = std::get_if<RandomLossParams>(&params_)) {
    correlated_.Reset(random->correlation, rng);
  }
}

bool LossModel::Lost(Rng& rng) {
  switch (params_.index()) {
    case 1: {
      // CLG_RANDOM: "0 => none, ~0 => all".
      const auto& random = std::get<RandomLossParams>(params_);
      return random.probability != 0 && random.probability >= correlated_.Next(rng);
    }
    case 2:
      return GilbertElliott(std::get<GilbertElliottParams>(params_), rng);
    case 3:
      return Markov(std::get<MarkovLossParams>(params_), rng);
    default:
      return false;
  }
}

// loss_gilb_ell(): the first draw may move the chain; the second decides the frame with the
// loss probability of the state the frame arrived in (k1 in good, 1-h in bad), as the kernel does.
bool LossModel::GilbertElliott(const GilbertElliottParams& ge, Rng& rng) {
  if (state_ == kGood) {
    if (rng.Next32() < ge.p) {
      state_ = kBad;
    }
    return rng.Next32() < ge.k1;
  }
  if (rng.Next32() < ge.r) {
    state_ = kGood;
  }
  return rng.Next32() > ge.h;
}

// loss_4state(): one draw picks the next state; the frame is lost iff that state is a loss
// state. The kernel names its enum TX_IN_GAP=1, TX_IN_BURST=2, LOST_IN_GAP=3, LOST_IN_BURST=4
// (its numbers are not the model's); the transitions below are the kernel's, by name.
bool LossModel::Markov(const MarkovLossParams& m, Rng& rng) {
  const uint32_t rnd = rng.Next32();
  switch (state_) {
    case kTxInGap:
      if (rnd < m.p14) {
        state_ = kLostInGap;
        return true;
      }
      if (rnd < Sum(m.p13, m.p14)) {
        state_ = kLostInBurst;
        return true;
      }
      return false;
    case kTxInBurst:
      if (rnd < m.p23) {
        state_ = kLostInBurst;
        return true;
      }
      return false;
    case kLostInBurst:
      if (rnd < m.p32) {
        state_ = kTxInBurst;
        return false;
      }
      if (rnd < Sum(m.p31, m.p32)) {
        state_ = kTxInGap;
        return false;
      }
      return true;
    case kLostInGap:
      state_ = kTxInGap;
      return false;
    default:
      return false;
  }
}

}  // namespace nslab::impair
