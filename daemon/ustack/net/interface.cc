#include "daemon/ustack/net/interface.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/ustack/packet/arp.h"
#include "daemon/ustack/packet/ethernet.h"
#include "daemon/ustack/packet/ipv4.h"

namespace nslab::ustack::net {

using packet::ConstBytes;
using packet::Ipv4Address;
using packet::MacAddress;
using packet::MutableBytes;

namespace {

constexpr std::size_t kEthernetHeaderLen = packet::EthernetView<ConstBytes>::kHeaderLen;

ArpLimits arp_limits_for(const InterfaceConfig& config) {
  ArpLimits limits;
  limits.max_packet_len = config.mtu;
  return limits;
}

}  // namespace

absl::Status Interface::validate(const InterfaceConfig& config) {
  if (config.addresses.empty()) {
    return absl::InvalidArgumentError("the interface needs at least one IPv4 address (--addr)");
  }
  if (config.mac.is_multicast() || config.mac == MacAddress()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MAC ", config.mac.to_string(), " is not a unicast address; pick one with bit 0 clear"));
  }
  if (config.mtu < 68) {
    return absl::InvalidArgumentError(
        absl::StrCat("MTU ", config.mtu, " is below IPv4's minimum of 68"));
  }
  for (const Ipv4Cidr& address : config.addresses) {
    if (address.address.is_unspecified() || address.address.is_multicast() ||
        address.address.is_broadcast()) {
      return absl::InvalidArgumentError(
          absl::StrCat("address ", address.to_string(), " cannot be a host address"));
    }
  }
  return absl::OkStatus();
}

Interface::Interface(const InterfaceConfig& config, Link& link, ProtocolHandler& upper)
    : config_(config), link_(link), upper_(upper), arp_(config.arp_timers, arp_limits_for(config)) {
  for (const Ipv4Cidr& address : config_.addresses) {
    routes_.add_connected(address);
  }
}

absl::Status Interface::add_route(const Ipv4Cidr& destination, Ipv4Address gateway) {
  return routes_.add_via(destination, gateway);
}

bool Interface::is_local(Ipv4Address address) const {
  for (const Ipv4Cidr& own : config_.addresses) {
    if (own.address == address) {
      return true;
    }
  }
  return false;
}

bool Interface::is_broadcast(Ipv4Address address) const {
  if (address.is_broadcast()) {
    return true;
  }
  for (const Ipv4Cidr& own : config_.addresses) {
    if (own.prefix_len < 31 && own.broadcast() == address) {
      return true;
    }
  }
  return false;
}

Ipv4Address Interface::source_for(Ipv4Address neighbour) const {
  for (const Ipv4Cidr& own : config_.addresses) {
    if (own.contains(neighbour)) {
      return own.address;
    }
  }
  return config_.addresses.front().address;
}

void Interface::start(Instant now) {
  now_ = now;
  for (const Ipv4Cidr& own : config_.addresses) {
    // A request with sender = target = our address (RFC 5227's announcement): neighbours that
    // knew another MAC for it update their caches.
    send_arp(packet::kArpOperationRequest, MacAddress::broadcast(), own.address, MacAddress(),
             own.address);
    ++arp_.counters().gratuitous_sent;
  }
}

void Interface::poll(Instant now) {
  now_ = now;
  arp_.poll(now, [this](Ipv4Address target) { send_arp_request(target); });
}

void Interface::receive(ConstBytes frame, bool checksum_trusted, Instant now) {
  now_ = now;
  ++ethernet_.in_frames;
  const auto ethernet = packet::EthernetView<ConstBytes>::checked(frame);
  if (!ethernet) {
    ++ethernet_.in_malformed;
    return;
  }
  const MacAddress destination = ethernet->destination();
  if (destination != config_.mac && !destination.is_broadcast()) {
    ++ethernet_.in_not_for_us;
    return;
  }
  switch (ethernet->ethertype()) {
    case packet::ethertype::kArp:
      receive_arp(ethernet->payload());
      return;
    case packet::ethertype::kIpv4:
      receive_ipv4(ethernet->payload(), checksum_trusted);
      return;
    default:
      ++ethernet_.in_unknown_ethertype;
      return;
  }
}

void Interface::receive_arp(ConstBytes payload) {
  const auto view = packet::ArpView<ConstBytes>::checked(payload);
  const auto arp = view ? packet::ArpRepr::parse(*view) : std::nullopt;
  if (!arp || arp->source_mac.is_multicast()) {
    ++arp_.counters().malformed;
    return;
  }
  const bool request = arp->operation == packet::kArpOperationRequest;
  ++(request ? arp_.counters().requests_received : arp_.counters().replies_received);
  const bool for_us = is_local(arp->target_ip);
  // A probe (sender 0.0.0.0) teaches nothing; our own address coming back from someone else is
  // a conflict we do not resolve, so it is not learned either.
  if (!arp->source_ip.is_unspecified() && !is_local(arp->source_ip) &&
      arp_.learn(arp->source_ip, arp->source_mac, now_, /*create=*/for_us)) {
    const MacAddress mac = arp->source_mac;
    arp_.drain(arp->source_ip, [&](ConstBytes packet, const QueuedPacketInfo& info) {
      transmit_ipv4(mac, packet.size(), info.l4_checksum_offset, [&](MutableBytes out) {
        std::memcpy(out.data(), packet.data(), packet.size());
      });
    });
  }
  if (request && for_us) {
    send_arp(packet::kArpOperationReply, arp->source_mac, arp->target_ip, arp->source_mac,
             arp->source_ip);
    ++arp_.counters().replies_sent;
  }
}

void Interface::receive_ipv4(ConstBytes payload, bool checksum_trusted) {
  ++ipv4_.in_receives;
  const auto view = packet::Ipv4View<ConstBytes>::checked(payload);
  const auto ip = view ? packet::Ipv4Repr::parse(*view) : std::nullopt;
  if (!ip) {
    ++ipv4_.in_hdr_errors;
    return;
  }
  const bool to_broadcast = is_broadcast(ip->destination);
  if ((!to_broadcast && !is_local(ip->destination)) || ip->source.is_multicast() ||
      ip->source.is_broadcast() || is_local(ip->source)) {
    ++ipv4_.in_addr_errors;
    return;
  }
  if (view->is_fragment()) {
    ++ipv4_.in_fragments_dropped;
    return;
  }
  const Ipv4Packet packet{ip->source,
                          ip->destination,
                          ip->protocol,
                          view->payload(),
                          payload.first(view->total_len()),
                          to_broadcast,
                          checksum_trusted};
  if (!upper_.deliver(packet)) {
    ++ipv4_.in_unknown_protos;
    upper_.protocol_unreachable(packet);
    return;
  }
  ++ipv4_.in_delivers;
}

SendResult Interface::send_ipv4(const Ipv4SendRequest& request, PayloadWriter write_payload) {
  ++ipv4_.out_requests;
  const Ipv4Address destination = request.destination;
  Ipv4Address source = config_.addresses.front().address;
  Ipv4Address next_hop = destination;
  bool broadcast = destination.is_broadcast();
  if (!broadcast) {
    const std::optional<RouteDecision> route = routes_.lookup(destination);
    if (!route || destination.is_multicast() || destination.is_unspecified()) {
      ++ipv4_.out_no_routes;
      return SendResult::kNoRoute;
    }
    source = route->source;
    next_hop = route->next_hop;
    broadcast = route->connected && is_broadcast(destination);
  }
  if (request.source) {
    source = *request.source;
  }
  const std::size_t packet_len = kIpv4HeaderLen + request.payload_len;
  const bool offload = request.l4_checksum_offset.has_value() && link_.checksum_offload();
  std::optional<LinkSegmentation> segmentation;
  if (packet_len > config_.mtu) {
    if (!offload || !request.segmentation || packet_len > max_segmented_packet_len()) {
      ++ipv4_.out_discards;
      return SendResult::kTooBig;
    }
    segmentation =
        LinkSegmentation{request.segmentation->payload_len,
                         static_cast<std::uint16_t>(kEthernetHeaderLen + kIpv4HeaderLen +
                                                    request.segmentation->l4_header_len)};
  }
  const std::optional<std::uint16_t> checksum_offset =
      offload ? request.l4_checksum_offset : std::nullopt;
  auto write_packet = [&](MutableBytes packet) {
    packet::Ipv4Repr header;
    header.source = source;
    header.destination = destination;
    header.protocol = request.protocol;
    header.payload_len = static_cast<std::uint16_t>(request.payload_len);
    header.ident = next_ident_++;
    header.emit(packet);
    write_payload(packet.subspan(kIpv4HeaderLen, request.payload_len), source, offload);
  };
  if (broadcast) {
    return transmit_ipv4(MacAddress::broadcast(), packet_len, checksum_offset, write_packet,
                         segmentation);
  }
  const ArpCache::Resolution resolution = arp_.resolve(next_hop, now_);
  if (resolution.send_request) {
    send_arp(packet::kArpOperationRequest, MacAddress::broadcast(), source_for(next_hop),
             MacAddress(), next_hop);
  }
  if (resolution.mac) {
    return transmit_ipv4(*resolution.mac, packet_len, checksum_offset, write_packet, segmentation);
  }
  if (resolution.table_full ||
      !arp_.enqueue(next_hop, packet_len, QueuedPacketInfo{checksum_offset}, write_packet)) {
    ++ipv4_.out_discards;
    return SendResult::kDropped;
  }
  return SendResult::kQueued;
}

std::size_t Interface::max_segmented_packet_len() const {
  return link_.segmentation_offload() && link_.checksum_offload() ? 0xffff : config_.mtu;
}

SendResult Interface::transmit_ipv4(MacAddress destination, std::size_t packet_len,
                                    std::optional<std::uint16_t> l4_checksum_offset,
                                    absl::FunctionRef<void(MutableBytes packet)> write_packet,
                                    std::optional<LinkSegmentation> segmentation) {
  std::optional<LinkChecksumOffload> checksum;
  if (l4_checksum_offset) {
    constexpr auto kStart = static_cast<std::uint16_t>(kEthernetHeaderLen + kIpv4HeaderLen);
    checksum = LinkChecksumOffload{kStart, *l4_checksum_offset};
  }
  if (!send_frame(destination, packet::ethertype::kIpv4, packet_len, checksum, segmentation,
                  write_packet)) {
    ++ipv4_.out_discards;
    return SendResult::kDropped;
  }
  return SendResult::kSent;
}

void Interface::send_arp_request(Ipv4Address target) {
  send_arp(packet::kArpOperationRequest, MacAddress::broadcast(), source_for(target), MacAddress(),
           target);
}

void Interface::send_arp(std::uint16_t operation, MacAddress ethernet_destination,
                         Ipv4Address source_ip, MacAddress target_mac, Ipv4Address target_ip) {
  const packet::ArpRepr arp{operation, config_.mac, source_ip, target_mac, target_ip};
  send_frame(ethernet_destination, packet::ethertype::kArp, arp.buffer_len(), std::nullopt,
             std::nullopt, [&](MutableBytes payload) { arp.emit(payload); });
}

bool Interface::send_frame(MacAddress destination, std::uint16_t ethertype, std::size_t payload_len,
                           std::optional<LinkChecksumOffload> checksum,
                           std::optional<LinkSegmentation> segmentation,
                           absl::FunctionRef<void(MutableBytes payload)> fill) {
  const auto fill_frame = [&](MutableBytes frame) {
    const packet::EthernetRepr ethernet{destination, config_.mac, ethertype};
    ethernet.emit(frame);
    fill(frame.subspan(kEthernetHeaderLen, payload_len));
  };
  const std::size_t frame_len = kEthernetHeaderLen + payload_len;
  const bool sent = segmentation && checksum
                        ? link_.send_segmented(frame_len, *checksum, *segmentation, fill_frame)
                        : link_.send(frame_len, checksum, fill_frame);
  if (sent) {
    ++ethernet_.out_frames;
  }
  return sent;
}

}  // namespace nslab::ustack::net
