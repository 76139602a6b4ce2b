#pragma once

// The options a SYN offers and what both SYNs together settle (RFC 9293 3.7.1 MSS, RFC 7323
// window scale and timestamps, RFC 2018 SACK-permitted). An option is in use only when both
// SYNs carried it; a SYN-ACK carries only options its SYN offered.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ustack/packet/tcp.h"

namespace nslab::ustack::tcp {

// RFC 9293 3.7.1: without the option, the peer takes 536.
inline constexpr std::uint16_t kDefaultMss = 536;
inline constexpr std::uint8_t kMaxWindowShift = 14;
// Bytes of IPv4 and TCP headers without options.
inline constexpr std::size_t kIpv4TcpHeadersLen = 40;

struct OfferedOptions {
  std::uint16_t mss = kDefaultMss;
  std::optional<std::uint8_t> window_shift;
  bool sack_permitted = false;
  bool timestamps = false;
};

struct NegotiatedOptions {
  std::uint16_t send_mss = kDefaultMss;   // largest payload (before options) toward the peer
  std::uint8_t send_window_shift = 0;     // applied to windows the peer advertises
  std::uint8_t receive_window_shift = 0;  // applied to windows we advertise
  bool timestamps = false;
  bool sack = false;
};

// The MSS an interface of this MTU announces.
std::uint16_t mss_for_mtu(std::size_t mtu);
// The smallest shift that lets a window of `buffer_size` bytes be advertised (at most 14).
std::uint8_t window_shift_for(std::size_t buffer_size);

// Writes `offer` into a SYN or SYN-ACK; `timestamps` is filled by the caller.
void add_syn_options(const OfferedOptions& offer, packet::TcpRepr& syn);
// What the peer offered in its SYN or SYN-ACK.
OfferedOptions offered_by(const packet::TcpRepr& syn);
// A passive opener answers only what was offered.
OfferedOptions answer_to(const OfferedOptions& ours, const OfferedOptions& theirs);
NegotiatedOptions negotiate(const OfferedOptions& ours, const OfferedOptions& theirs);

}  // namespace nslab::ustack::tcp
