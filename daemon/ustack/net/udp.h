#pragma once

// UDP sockets: bind a port with a receive callback, send datagrams from it. A datagram to a
// port nobody bound is answered with ICMP port unreachable (unless it was a broadcast).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "absl/status/status.h"
#include "daemon/ustack/net/counters.h"
#include "daemon/ustack/net/icmp.h"
#include "daemon/ustack/net/ipv4_output.h"
#include "daemon/ustack/net/time.h"
#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::net {

struct UdpDatagram {
  packet::Ipv4Address source;
  std::uint16_t source_port = 0;
  packet::Ipv4Address destination;  // one of ours, or a broadcast address
  std::uint16_t destination_port = 0;
  bool to_broadcast = false;
  packet::ConstBytes payload;  // valid during the callback only
};

// Called on the stack's thread; it may send (the reply goes out before the next frame is read).
using UdpReceiver = std::function<void(const UdpDatagram&)>;

class Udp {
 public:
  Udp(Ipv4Output& output, Icmp& icmp) : output_(output), icmp_(icmp) {}

  // ALREADY_EXISTS when the port is bound, INVALID_ARGUMENT for port 0.
  absl::Status bind(std::uint16_t port, UdpReceiver receiver);
  void unbind(std::uint16_t port);

  // From `source_port` (bound or not) to destination:destination_port. `source` picks the
  // source address (an answer goes out from the address it was sent to); none: the route's.
  SendResult send(std::uint16_t source_port, packet::Ipv4Address destination,
                  std::uint16_t destination_port, packet::ConstBytes payload,
                  std::optional<packet::Ipv4Address> source = std::nullopt);

  void receive(const Ipv4Packet& packet, Instant now);

  const UdpCounters& counters() const { return counters_; }

 private:
  Ipv4Output& output_;
  Icmp& icmp_;
  std::map<std::uint16_t, UdpReceiver> sockets_;
  UdpCounters counters_;
};

}  // namespace nslab::ustack::net
