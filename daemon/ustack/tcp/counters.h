#pragma once

// Per-instance TCP counters, named after /proc/net/snmp "Tcp:" and /proc/net/netstat "TcpExt:"
// where Linux has a name for the thing.

#include <cstdint>

namespace nslab::ustack::tcp {

struct TcpCounters {
  std::uint64_t active_opens = 0;   // CLOSED -> SYN_SENT
  std::uint64_t passive_opens = 0;  // LISTEN -> SYN_RECEIVED
  std::uint64_t attempt_fails = 0;  // SYN_SENT/SYN_RECEIVED -> CLOSED or LISTEN
  std::uint64_t estab_resets = 0;   // ESTABLISHED/CLOSE_WAIT -> CLOSED by a reset
  std::uint64_t in_segs = 0;
  std::uint64_t out_segs = 0;
  std::uint64_t retrans_segs = 0;
  std::uint64_t in_errs = 0;  // malformed or bad checksum
  std::uint64_t in_csum_errors = 0;
  std::uint64_t in_rsts = 0;    // resets that were accepted
  std::uint64_t out_rsts = 0;   // resets sent
  std::uint64_t no_socket = 0;  // segments for no connection and no listener
  // TcpExt
  std::uint64_t listen_overflows = 0;     // accept queue full
  std::uint64_t listen_drops = 0;         // SYNs and handshake ACKs a listener dropped
  std::uint64_t syn_queue_overflows = 0;  // SYN queue full
  std::uint64_t challenge_acks = 0;       // RFC 5961
  std::uint64_t paws_rejected = 0;        // RFC 7323 PAWS
  std::uint64_t fast_retransmits = 0;
  std::uint64_t timeouts = 0;  // retransmission timer expiries
  std::uint64_t delayed_acks = 0;
  std::uint64_t window_probes = 0;  // zero-window probes (persist timer)
  std::uint64_t keep_alive_probes = 0;
  std::uint64_t ofo_queued = 0;  // segments stored out of order
  std::uint64_t sack_blocks_sent = 0;
  std::uint64_t aborts_on_timeout = 0;
  std::uint64_t aborts_on_close = 0;  // closed with unread data: reset
  std::uint64_t time_wait_expired = 0;
  // Holes below the highest SACKed byte resent during fast recovery (RFC 6675's NextSeg()).
  std::uint64_t sack_recovery_retransmits = 0;
};

}  // namespace nslab::ustack::tcp
