#pragma once

// ICMP for IPv4: answers echo requests, sends destination unreachable errors for the layers
// above (port unreachable for UDP, protocol unreachable for IPv4), and counts what arrives.
// Errors are rate limited as Linux does (a token bucket: icmp_msgs_per_sec, icmp_msgs_burst)
// and never sent about broadcasts, non-unicast sources or other ICMP errors (RFC 1122 3.2.2).

#include <cstdint>

#include "daemon/ustack/net/counters.h"
#include "daemon/ustack/net/ipv4_output.h"
#include "daemon/ustack/net/time.h"

namespace nslab::ustack::net {

class Icmp {
 public:
  static constexpr std::uint32_t kErrorsPerSecond = 1000;
  static constexpr std::uint32_t kErrorBurst = 50;
  // RFC 1812 4.3.2.3: an error quotes as much of the datagram as fits in 576 bytes.
  static constexpr std::size_t kMaxErrorLen = 576;

  explicit Icmp(Ipv4Output& output) : output_(output) {}

  void receive(const Ipv4Packet& packet);
  // `offending` was delivered to this host; `code` is an icmp_unreachable code.
  void send_destination_unreachable(const Ipv4Packet& offending, std::uint8_t code, Instant now);

  const IcmpCounters& counters() const { return counters_; }

 private:
  bool take_error_token(Instant now);

  Ipv4Output& output_;
  IcmpCounters counters_;
  double error_tokens_ = kErrorBurst;
  Instant tokens_updated_{};
};

}  // namespace nslab::ustack::net
