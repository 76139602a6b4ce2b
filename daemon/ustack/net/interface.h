#pragma once

// One Ethernet interface of the stack: its MAC, IPv4 addresses and MTU; ARP on it; IPv4 input
// (header checks, local delivery, fragments dropped and counted — no reassembly) and output
// (routing, ARP resolution with a queue, no fragmentation). Protocols above reach it through
// Ipv4Output and ProtocolHandler. Frames come in through receive() and leave through a Link.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "daemon/ustack/net/arp_cache.h"
#include "daemon/ustack/net/counters.h"
#include "daemon/ustack/net/ipv4_cidr.h"
#include "daemon/ustack/net/ipv4_output.h"
#include "daemon/ustack/net/link.h"
#include "daemon/ustack/net/routing_table.h"
#include "daemon/ustack/net/time.h"
#include "daemon/ustack/packet/mac_address.h"

namespace nslab::ustack::net {

struct InterfaceConfig {
  packet::MacAddress mac;
  std::vector<Ipv4Cidr> addresses;  // at least one
  std::uint16_t mtu = 1500;
  ArpTimers arp_timers;
};

class Interface final : public Ipv4Output {
 public:
  // INVALID_ARGUMENT for a configuration that cannot work (no address, a multicast MAC, an MTU
  // below IPv4's minimum of 68).
  static absl::Status validate(const InterfaceConfig& config);

  // `link` and `upper` must outlive the interface. The config must be valid.
  Interface(const InterfaceConfig& config, Link& link, ProtocolHandler& upper);

  // A route through a gateway in one of the interface's subnets.
  absl::Status add_route(const Ipv4Cidr& destination, packet::Ipv4Address gateway);

  // Announces every address with a gratuitous ARP.
  void start(Instant now);
  // One frame from the Ethernet header on.
  void receive(packet::ConstBytes frame, bool checksum_trusted, Instant now);
  // Runs the ARP timers.
  void poll(Instant now);
  std::optional<Instant> next_deadline() const { return arp_.next_deadline(); }

  SendResult send_ipv4(const Ipv4SendRequest& request, PayloadWriter write_payload) override;
  std::size_t max_segmented_packet_len() const override;

  bool is_local(packet::Ipv4Address address) const;
  bool is_broadcast(packet::Ipv4Address address) const;
  const InterfaceConfig& config() const { return config_; }
  const RoutingTable& routes() const { return routes_; }
  const ArpCache& arp() const { return arp_; }
  const EthernetCounters& ethernet_counters() const { return ethernet_; }
  const Ipv4Counters& ipv4_counters() const { return ipv4_; }

 private:
  static constexpr std::size_t kIpv4HeaderLen = 20;  // we send no options

  void receive_arp(packet::ConstBytes payload);
  void receive_ipv4(packet::ConstBytes payload, bool checksum_trusted);
  void send_arp(std::uint16_t operation, packet::MacAddress ethernet_destination,
                packet::Ipv4Address source_ip, packet::MacAddress target_mac,
                packet::Ipv4Address target_ip);
  void send_arp_request(packet::Ipv4Address target);
  // The address to speak for when talking to `neighbour`: one in its subnet, else the first.
  packet::Ipv4Address source_for(packet::Ipv4Address neighbour) const;
  bool send_frame(packet::MacAddress destination, std::uint16_t ethertype, std::size_t payload_len,
                  std::optional<LinkChecksumOffload> checksum,
                  std::optional<LinkSegmentation> segmentation,
                  absl::FunctionRef<void(packet::MutableBytes payload)> fill);
  SendResult transmit_ipv4(packet::MacAddress destination, std::size_t packet_len,
                           std::optional<std::uint16_t> l4_checksum_offset,
                           absl::FunctionRef<void(packet::MutableBytes packet)> write_packet,
                           std::optional<LinkSegmentation> segmentation = std::nullopt);

  InterfaceConfig config_;
  Link& link_;
  ProtocolHandler& upper_;
  RoutingTable routes_;
  ArpCache arp_;
  Instant now_{};
  std::uint16_t next_ident_ = 1;
  EthernetCounters ethernet_;
  Ipv4Counters ipv4_;
};

}  // namespace nslab::ustack::net
