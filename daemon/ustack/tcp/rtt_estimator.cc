#include "daemon/ustack/tcp/rtt_estimator.h"

#include <algorithm>

namespace nslab::ustack::tcp {

namespace {
// RFC 6298 2: clock granularity G; our clock is exact, Linux's is a jiffy.
constexpr Duration kGranularity = std::chrono::milliseconds(1);
// 2^16 times any RTO is past every max_rto; it also keeps the shift below overflow.
constexpr int kMaxBackoffShift = 16;
}  // namespace

RttEstimator::RttEstimator(Duration initial_rto, Duration min_rto, Duration max_rto)
    : initial_rto_(initial_rto), min_rto_(min_rto), max_rto_(max_rto) {}

void RttEstimator::add_sample(Duration rtt) {
  rtt = std::max(rtt, Duration::zero());
  if (!srtt_) {
    // RFC 6298 2.2
    srtt_ = rtt;
    rttvar_ = rtt / 2;
  } else {
    // RFC 6298 2.3, alpha = 1/8, beta = 1/4; RTTVAR first, with the old SRTT.
    const Duration delta = *srtt_ > rtt ? *srtt_ - rtt : rtt - *srtt_;
    rttvar_ = rttvar_ - rttvar_ / 4 + delta / 4;
    *srtt_ = *srtt_ - *srtt_ / 8 + rtt / 8;
  }
  backoff_shift_ = 0;
}

void RttEstimator::back_off() { backoff_shift_ = std::min(backoff_shift_ + 1, kMaxBackoffShift); }

Duration RttEstimator::base_rto() const {
  if (!srtt_) {
    return initial_rto_;
  }
  return *srtt_ + std::max(kGranularity, 4 * rttvar_);
}

Duration RttEstimator::rto() const {
  const Duration bounded = std::clamp(base_rto(), min_rto_, max_rto_);
  return std::min(bounded * (std::int64_t{1} << backoff_shift_), max_rto_);
}

}  // namespace nslab::ustack::tcp
