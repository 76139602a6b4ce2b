#pragma once

#include <cstdint>
#include <variant>

#include "daemon/impair/correlated.h"
#include "daemon/impair/rng.h"

namespace nslab::impair {

// Loss models, each exactly as net/sched/sch_netem.c draws it, with probabilities scaled to
// UINT32_MAX (see ScaledPercent). Only one model is active at a time, as in netem.

// `loss random P [CORR]`: lost when P >= the correlated uniform draw. P = 0 draws nothing.
struct RandomLossParams {
  uint32_t probability = 0;
  uint32_t correlation = 0;
};

// `loss gemodel p r 1-h 1-k`, held in the kernel's form (struct tc_netem_gemodel):
//   p  good -> bad transition,        r  bad -> good transition,
//   h  delivery probability in bad,   k1 loss probability in good ("1-k").
// iproute2 takes the third argument as 1-h and stores UINT32_MAX - it; FromNetemArgs does the
// same, so the numbers a user would type after `loss gemodel` mean the same here.
struct GilbertElliottParams {
  uint32_t p = 0;
  uint32_t r = 0;
  uint32_t h = 0;
  uint32_t k1 = 0;

  // Percentages, in the order of `tc ... loss gemodel p r 1-h 1-k`.
  static GilbertElliottParams FromNetemArgs(double p, double r, double one_minus_h,
                                            double one_minus_k);
};

// `loss state p13 p31 p32 p23 p14`: the 4-state Markov chain of the GI model (Salsano et al.).
// States: 1 received in a gap, 2 received in a burst, 3 lost in a burst, 4 isolated loss.
struct MarkovLossParams {
  uint32_t p13 = 0;
  uint32_t p31 = 0;
  uint32_t p32 = 0;
  uint32_t p23 = 0;
  uint32_t p14 = 0;

  // Percentages, in the order of `tc ... loss state p13 p31 p32 p23 p14`.
  static MarkovLossParams FromPercent(double p13, double p31, double p32, double p23, double p14);
};

using LossParams =
    std::variant<std::monostate, RandomLossParams, GilbertElliottParams, MarkovLossParams>;

// The long-run fraction of frames lost. Exact for the two Markov models and for random loss
// without correlation; with correlation netem's source is not uniform (see CorrelatedUniform)
// and the value returned is the nominal one.
double StationaryLossRate(const LossParams& params);

// One direction's loss state (the chain's current state and the correlation memory).
class LossModel {
 public:
  LossModel() = default;
  // netem_change(): a new model starts in its first state (good / 1) with fresh correlation.
  LossModel(const LossParams& params, Rng& rng);

  // Decides the next frame; consumes the same number of draws as netem would.
  bool Lost(Rng& rng);

  const LossParams& params() const { return params_; }

 private:
  enum State : uint8_t {
    // Gilbert-Elliott.
    kGood = 1,
    kBad = 2,
  };
  enum MarkovState : uint8_t {
    kTxInGap = 1,
    kTxInBurst = 2,
    kLostInGap = 3,
    kLostInBurst = 4,
  };

  bool GilbertElliott(const GilbertElliottParams& ge, Rng& rng);
  bool Markov(const MarkovLossParams& m, Rng& rng);

  LossParams params_;
  CorrelatedUniform correlated_;
  uint8_t state_ = 1;
};

}  // namespace nslab::impair
