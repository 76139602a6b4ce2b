#pragma once

// What the sender asks of a congestion-control algorithm (gVisor keeps one file per algorithm
// behind such an interface). The connection counts bytes and detects duplicate ACKs as RFC 5681
// defines them; the algorithm owns cwnd, ssthresh and the recovery episode, and says when a
// segment must be retransmitted at once.

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/ustack/tcp/seq.h"

namespace nslab::ustack::tcp {

enum class AckVerdict {
  kNothing,
  kRetransmitFirstUnacked,  // fast retransmit, or a partial ACK during recovery
};

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;

  virtual std::string_view name() const = 0;
  // snd_una moved to `ack`, acknowledging `acked` bytes; `flight_size` was in flight before.
  virtual AckVerdict on_ack(SeqNumber ack, std::uint32_t acked, std::uint32_t flight_size) = 0;
  // A duplicate ACK (RFC 5681 2); `highest_sent` starts a recovery episode (RFC 6582 "recover").
  virtual AckVerdict on_duplicate_ack(SeqNumber highest_sent, std::uint32_t flight_size) = 0;
  // During recovery, `bytes` of a hole the peer's SACK blocks showed were resent on a duplicate
  // ACK: they take the room that ACK made, so that one segment leaves per segment that arrived.
  virtual void on_recovery_retransmit(std::uint32_t bytes) = 0;
  // The retransmission timer expired with `flight_size` in flight.
  virtual void on_retransmit_timeout(SeqNumber highest_sent, std::uint32_t flight_size) = 0;
  // The peer's MSS, once known.
  virtual void set_mss(std::uint32_t mss) = 0;

  virtual std::uint32_t cwnd() const = 0;
  virtual std::uint32_t ssthresh() const = 0;
  virtual bool in_recovery() const = 0;
};

// "newreno"; INVALID_ARGUMENT naming the algorithms there are.
absl::StatusOr<std::unique_ptr<CongestionControl>> make_congestion_control(std::string_view name,
                                                                           std::uint32_t mss);

}  // namespace nslab::ustack::tcp
