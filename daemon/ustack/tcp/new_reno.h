#pragma once

// Slow start and congestion avoidance (RFC 5681 3.1), fast retransmit on the third duplicate ACK
// and NewReno fast recovery with partial ACKs (RFC 6582).

#include "daemon/ustack/tcp/congestion_control.h"

namespace nslab::ustack::tcp {

class NewReno final : public CongestionControl {
 public:
  explicit NewReno(std::uint32_t mss);

  std::string_view name() const override { return "newreno"; }
  AckVerdict on_ack(SeqNumber ack, std::uint32_t acked, std::uint32_t flight_size) override;
  AckVerdict on_duplicate_ack(SeqNumber highest_sent, std::uint32_t flight_size) override;
  void on_recovery_retransmit(std::uint32_t bytes) override;
  void on_retransmit_timeout(SeqNumber highest_sent, std::uint32_t flight_size) override;
  void set_mss(std::uint32_t mss) override;

  std::uint32_t cwnd() const override { return cwnd_; }
  std::uint32_t ssthresh() const override { return ssthresh_; }
  bool in_recovery() const override { return in_recovery_; }

 private:
  static constexpr int kDuplicateAckThreshold = 3;

  std::uint32_t half_flight(std::uint32_t flight_size) const;

  std::uint32_t mss_;
  std::uint32_t cwnd_;
  std::uint32_t ssthresh_ = 0x7fffffff;  // "arbitrarily high" (RFC 5681 3.1)
  std::uint32_t bytes_acked_in_avoidance_ = 0;
  int duplicate_acks_ = 0;
  bool in_recovery_ = false;
  SeqNumber recover_;
  bool recover_valid_ = false;
};

}  // namespace nslab::ustack::tcp
