#pragma once

#include <cstdint>

#include "daemon/impair/rng.h"

namespace nslab::impair {

// Probabilities are held as netem holds them: a fraction of UINT32_MAX, so that a draw
// `p >= rnd` happens with probability ~p. Converted exactly as iproute2's set_percent() does:
// rint(fraction * UINT32_MAX). `percent` is 0..100 (validated elsewhere; clamped here).
uint32_t ScaledPercent(double percent);

// netem's correlated uniform source (get_crandom in net/sched/sch_netem.c): with rho = 0 each
// draw is independent; otherwise the next value is the weighted mean
//   next = (rnd * (2^32 - (rho + 1)) + last * (rho + 1)) >> 32
// of a fresh draw and the previous value. Note what this is and is not: it makes consecutive
// values similar (bursts), but it is not a correlation coefficient, and it narrows the
// distribution towards the middle, so a correlated 1% loss loses noticeably less than 1% (the
// known netem caveat). We reproduce it on purpose: the kernel and wire backends must agree.
class CorrelatedUniform {
 public:
  CorrelatedUniform() = default;

  // init_crandom(): the kernel takes the first `last` from get_random_u32(); we take it from
  // the seeded stream, so that it replays.
  void Reset(uint32_t rho, Rng& rng) {
    rho_ = rho;
    last_ = rng.Next32();
  }

  uint32_t Next(Rng& rng) {
    if (rho_ == 0) {
      return rng.Next32();
    }
    const uint64_t value = rng.Next32();
    const uint64_t rho = static_cast<uint64_t>(rho_) + 1;
    const uint64_t answer = (value * ((1ULL << 32) - rho) + last_ * rho) >> 32;
    last_ = static_cast<uint32_t>(answer);
    return last_;
  }

  uint32_t rho() const { return rho_; }

 private:
  uint32_t rho_ = 0;
  uint64_t last_ = 0;
};

}  // namespace nslab::impair
