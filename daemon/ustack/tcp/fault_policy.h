#pragma once

// How a socket breaks TCP on purpose (apps/fault.h has the modes and why): the TCP-level part,
// a small policy each listener and connection carries. The default breaks nothing, and the
// normal paths ask it only through a few questions (syn_answer, takes_fin, receive_window,
// byte_budget) rather than testing for faults themselves.

#include <cstdint>

namespace nslab::ustack::tcp {

struct FaultPolicy {
  // How a listener answers a SYN that would open a new connection.
  enum class SynAnswer {
    kHandshake,  // SYN-ACK (normal)
    kReset,      // RST: the peer's connect is refused
    kDrop,       // nothing: the peer retransmits its SYN until it gives up
  };

  SynAnswer syn = SynAnswer::kHandshake;
  // The peer's FIN is neither taken nor ACKed (data before it is): the peer stays in FIN-WAIT-1
  // retransmitting it. Clearing it takes the next retransmission as usual.
  bool ignore_fin = false;
  // Every segment advertises window 0 and data is not taken; probes are answered with window 0.
  // Clearing it sends a window update at once.
  bool zero_window = false;
  // Nonzero: once this many bytes of data have been sent (first transmissions) plus received
  // (in order) the connection is aborted with a RST. Sending stops at the budget, so that the
  // peer gets exactly that many bytes first.
  std::uint64_t reset_after_bytes = 0;

  bool operator==(const FaultPolicy&) const = default;
};

}  // namespace nslab::ustack::tcp
