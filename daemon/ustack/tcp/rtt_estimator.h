#pragma once

// The retransmission timeout of RFC 6298: SRTT and RTTVAR from samples, RTO = SRTT + 4 RTTVAR
// bounded to [min, max], doubled on each timeout (exponential backoff) until a new sample.
// Karn's rule is the caller's: it offers no sample from a retransmitted segment unless a
// timestamp names the transmission (RFC 7323 4.1).

#include <cstdint>
#include <optional>

#include "daemon/ustack/tcp/time.h"

namespace nslab::ustack::tcp {

class RttEstimator {
 public:
  RttEstimator(Duration initial_rto, Duration min_rto, Duration max_rto);

  void add_sample(Duration rtt);
  // The timer expired: RTO doubles (up to max).
  void back_off();
  // Back to the unbacked-off RTO (a sample arrived, or new data was acknowledged).
  void reset_backoff() { backoff_shift_ = 0; }

  Duration rto() const;
  std::optional<Duration> srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  int backoff_count() const { return backoff_shift_; }

 private:
  Duration base_rto() const;

  Duration initial_rto_;
  Duration min_rto_;
  Duration max_rto_;
  std::optional<Duration> srtt_;
  Duration rttvar_{};
  int backoff_shift_ = 0;
};

}  // namespace nslab::ustack::tcp
