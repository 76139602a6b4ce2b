#include "daemon/ustack/net/stack.h"

#include "daemon/ustack/packet/icmp.h"
#include "daemon/ustack/packet/ip_protocol.h"

namespace nslab::ustack::net {

Stack::Stack(const InterfaceConfig& config, Link& link)
    : interface_(config, link, *this), icmp_(interface_), udp_(interface_, icmp_) {}

void Stack::receive(packet::ConstBytes frame, bool checksum_trusted, Instant now) {
  now_ = now;
  interface_.receive(frame, checksum_trusted, now);
}

bool Stack::deliver(const Ipv4Packet& packet) {
  switch (packet.protocol) {
    case packet::ip_protocol::kIcmp:
      icmp_.receive(packet);
      return true;
    case packet::ip_protocol::kUdp:
      udp_.receive(packet, now_);
      return true;
    default:
      return false;
  }
}

void Stack::protocol_unreachable(const Ipv4Packet& packet) {
  icmp_.send_destination_unreachable(packet, packet::icmp_unreachable::kProtocolUnreachable, now_);
}

StackStats Stack::stats() const {
  return StackStats{interface_.ethernet_counters(),
                    interface_.arp().counters(),
                    interface_.arp().entries(),
                    interface_.ipv4_counters(),
                    icmp_.counters(),
                    udp_.counters()};
}

}  // namespace nslab::ustack::net
