#include "daemon/ustack/tcp/new_reno.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace nslab::ustack::tcp {

namespace {
// RFC 5681 3.1 (equation 1): the initial window by SMSS.
std::uint32_t initial_window(std::uint32_t mss) {
  if (mss > 2190) {
    return 2 * mss;
  }
  if (mss > 1095) {
    return 3 * mss;
  }
  return 4 * mss;
}
}  // namespace

NewReno::NewReno(std::uint32_t mss) : mss_(mss), cwnd_(initial_window(mss)) {}

void NewReno::set_mss(std::uint32_t mss) {
  mss_ = mss;
  cwnd_ = std::max(cwnd_, initial_window(mss));
}

std::uint32_t NewReno::half_flight(std::uint32_t flight_size) const {
  // RFC 5681 equation (4).
  return std::max(flight_size / 2, 2 * mss_);
}

AckVerdict NewReno::on_ack(SeqNumber ack, std::uint32_t acked, std::uint32_t flight_size) {
  duplicate_acks_ = 0;
  if (in_recovery_) {
    if (ack > recover_) {
      // Full acknowledgment (RFC 6582 3.2 step 3): deflate the window.
      cwnd_ =
          std::min(ssthresh_, std::max(flight_size - std::min(flight_size, acked), mss_) + mss_);
      in_recovery_ = false;
      return AckVerdict::kNothing;
    }
    // Partial acknowledgment (step 4): retransmit the next hole, deflate by what was acked,
    // and add back one SMSS if at least that much was acked.
    cwnd_ = cwnd_ > acked ? cwnd_ - acked : mss_;
    if (acked >= mss_) {
      cwnd_ += mss_;
    }
    return AckVerdict::kRetransmitFirstUnacked;
  }
  if (cwnd_ < ssthresh_) {
    // Slow start, with appropriate byte counting limited to one SMSS per ACK (RFC 5681 3.1).
    cwnd_ += std::min(acked, mss_);
  } else {
    // Congestion avoidance: one SMSS per window of acknowledged bytes.
    bytes_acked_in_avoidance_ += acked;
    if (bytes_acked_in_avoidance_ >= cwnd_) {
      bytes_acked_in_avoidance_ -= cwnd_;
      cwnd_ += mss_;
    }
  }
  return AckVerdict::kNothing;
}

AckVerdict NewReno::on_duplicate_ack(SeqNumber highest_sent, std::uint32_t flight_size) {
  if (in_recovery_) {
    // Each further duplicate means a segment left the network (RFC 6582 3.2 step 3).
    cwnd_ += mss_;
    return AckVerdict::kNothing;
  }
  if (++duplicate_acks_ != kDuplicateAckThreshold) {
    return AckVerdict::kNothing;
  }
  // RFC 6582 3.2 step 2: no new recovery for losses from the previous episode's window.
  if (recover_valid_ && highest_sent - 1 <= recover_) {
    return AckVerdict::kNothing;
  }
  ssthresh_ = half_flight(flight_size);
  cwnd_ = ssthresh_ + kDuplicateAckThreshold * mss_;
  recover_ = highest_sent - 1;
  recover_valid_ = true;
  in_recovery_ = true;
  return AckVerdict::kRetransmitFirstUnacked;
}

void NewReno::on_recovery_retransmit(std::uint32_t bytes) {
  cwnd_ = cwnd_ > bytes + mss_ ? cwnd_ - bytes : mss_;
}

void NewReno::on_retransmit_timeout(SeqNumber highest_sent, std::uint32_t flight_size) {
  // RFC 5681 3.1 equation (4) and the loss window; RFC 6582 4.1 for recover.
  ssthresh_ = half_flight(flight_size);
  cwnd_ = mss_;
  bytes_acked_in_avoidance_ = 0;
  duplicate_acks_ = 0;
  in_recovery_ = false;
  recover_ = highest_sent - 1;
  recover_valid_ = true;
}

absl::StatusOr<std::unique_ptr<CongestionControl>> make_congestion_control(std::string_view name,
                                                                           std::uint32_t mss) {
  if (name == "newreno") {
    return std::make_unique<NewReno>(mss);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown TCP congestion control \"",
                                                 std::string(name), "\"; available: newreno"));
}

}  // namespace nslab::ustack::tcp
