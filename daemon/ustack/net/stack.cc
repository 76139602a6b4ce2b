#include "daemon/ustack/net/stack.h"

#include <algorithm>

#include "daemon/ustack/packet/icmp.h"
#include "daemon/ustack/packet/ip_protocol.h"

namespace nslab::ustack::net {

Stack::Stack(const InterfaceConfig& config, Link& link, const tcp::TcpConfig& tcp_config)
    : interface_(config, link, *this),
      icmp_(interface_),
      udp_(interface_, icmp_),
      tcp_output_(interface_),
      tcp_(tcp_config, tcp_output_) {}

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
    case packet::ip_protocol::kTcp:
      // TCP is point to point: a segment to a broadcast address is nobody's (RFC 1122 4.2.3.10).
      if (!packet.to_broadcast) {
        tcp_.receive(packet.source, packet.destination, packet.payload, packet.checksum_trusted,
                     now_);
      }
      return true;
    default:
      return false;
  }
}

void Stack::poll(Instant now) {
  now_ = now;
  interface_.poll(now);
  if (const auto deadline = tcp_.next_deadline(); deadline && *deadline <= now) {
    tcp_.poll(now);
  }
}

std::optional<Instant> Stack::next_deadline() const {
  const std::optional<Instant> arp = interface_.next_deadline();
  const std::optional<Instant> tcp = tcp_.next_deadline();
  if (arp && tcp) {
    return std::min(*arp, *tcp);
  }
  return arp ? arp : tcp;
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
                    udp_.counters(),
                    tcp_.counters(),
                    tcp_.current_established(),
                    tcp_.sockets()};
}

}  // namespace nslab::ustack::net
