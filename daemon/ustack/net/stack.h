#pragma once

// The whole stack on one interface: Ethernet, ARP, IPv4, ICMP, UDP and TCP, wired together.
// Single-threaded and clock-free: frames go in through receive(), frames come out through the
// Link, and the caller tells the time. Tests drive it with frames in and frames out.

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "daemon/ustack/net/arp_cache.h"
#include "daemon/ustack/net/counters.h"
#include "daemon/ustack/net/icmp.h"
#include "daemon/ustack/net/interface.h"
#include "daemon/ustack/net/link.h"
#include "daemon/ustack/net/tcp_output.h"
#include "daemon/ustack/net/udp.h"
#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::net {

struct StackStats {
  EthernetCounters ethernet;
  ArpCounters arp;
  std::vector<ArpEntrySnapshot> arp_entries;
  Ipv4Counters ipv4;
  IcmpCounters icmp;
  UdpCounters udp;
  tcp::TcpCounters tcp;
  std::uint64_t tcp_current_established = 0;
  std::vector<tcp::TcpSocketInfo> tcp_sockets;
};

class Stack final : private ProtocolHandler {
 public:
  // The configs must pass Interface::validate() and tcp::Tcp::validate(); `link` must outlive
  // the stack.
  Stack(const InterfaceConfig& config, Link& link, const tcp::TcpConfig& tcp_config = {});
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  absl::Status add_route(const Ipv4Cidr& destination, packet::Ipv4Address gateway) {
    return interface_.add_route(destination, gateway);
  }

  // Announces the addresses (gratuitous ARP).
  void start(Instant now) { interface_.start(now); }
  void receive(packet::ConstBytes frame, bool checksum_trusted, Instant now);
  void poll(Instant now);
  // When poll() next has work (ARP retransmits and ageing, TCP timers).
  std::optional<Instant> next_deadline() const;

  Udp& udp() { return udp_; }
  tcp::Tcp& tcp() { return tcp_; }
  const Interface& interface() const { return interface_; }
  StackStats stats() const;

 private:
  bool deliver(const Ipv4Packet& packet) override;
  void protocol_unreachable(const Ipv4Packet& packet) override;

  Interface interface_;
  Icmp icmp_;
  Udp udp_;
  TcpSegmentOutput tcp_output_;
  tcp::Tcp tcp_;
  Instant now_{};
};

}  // namespace nslab::ustack::net
