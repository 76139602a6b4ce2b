#pragma once

// Frames in, frames out: a Link that keeps what the stack sends (gVisor's link/channel), and
// builders for the frames a Linux neighbour would send.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "daemon/ustack/net/link.h"
#include "daemon/ustack/packet/arp.h"
#include "daemon/ustack/packet/ethernet.h"
#include "daemon/ustack/packet/icmp.h"
#include "daemon/ustack/packet/ip_protocol.h"
#include "daemon/ustack/packet/ipv4.h"
#include "daemon/ustack/packet/udp.h"

namespace nslab::ustack::net::testing {

using Frame = std::vector<std::byte>;

struct SentFrame {
  Frame bytes;
  std::optional<LinkChecksumOffload> checksum;
  std::optional<LinkSegmentation> segmentation;
};

class FrameCollector final : public Link {
 public:
  bool send(std::size_t len, std::optional<LinkChecksumOffload> checksum,
            absl::FunctionRef<void(packet::MutableBytes frame)> fill) override {
    if (full) {
      return false;
    }
    Frame frame(len);
    fill(frame);
    sent.push_back(SentFrame{std::move(frame), checksum, std::nullopt});
    return true;
  }
  bool checksum_offload() const override { return offload; }
  bool segmentation_offload() const override { return segmentation; }
  bool send_segmented(std::size_t len, LinkChecksumOffload checksum,
                      LinkSegmentation segmentation_info,
                      absl::FunctionRef<void(packet::MutableBytes frame)> fill) override {
    if (!segmentation || full) {
      return false;
    }
    Frame frame(len);
    fill(frame);
    sent.push_back(SentFrame{std::move(frame), checksum, segmentation_info});
    return true;
  }

  std::vector<SentFrame> take() { return std::exchange(sent, {}); }

  std::vector<SentFrame> sent;
  bool offload = false;
  bool segmentation = false;
  bool full = false;
};

inline std::vector<std::byte> bytes_of(std::string_view text) {
  const auto* p = reinterpret_cast<const std::byte*>(text.data());
  return {p, p + text.size()};
}

inline Frame ethernet_frame(packet::MacAddress destination, packet::MacAddress source,
                            std::uint16_t ethertype, packet::ConstBytes payload) {
  Frame frame(packet::EthernetView<packet::ConstBytes>::kHeaderLen + payload.size());
  packet::EthernetRepr{destination, source, ethertype}.emit(frame);
  std::copy(payload.begin(), payload.end(), frame.begin() + 14);
  return frame;
}

inline Frame arp_frame(std::uint16_t operation, packet::MacAddress ethernet_destination,
                       packet::MacAddress source_mac, packet::Ipv4Address source_ip,
                       packet::MacAddress target_mac, packet::Ipv4Address target_ip) {
  const packet::ArpRepr arp{operation, source_mac, source_ip, target_mac, target_ip};
  std::vector<std::byte> payload(arp.buffer_len());
  arp.emit(payload);
  return ethernet_frame(ethernet_destination, source_mac, packet::ethertype::kArp, payload);
}

inline std::vector<std::byte> ipv4_packet(packet::Ipv4Address source,
                                          packet::Ipv4Address destination, std::uint8_t protocol,
                                          packet::ConstBytes payload) {
  packet::Ipv4Repr ip;
  ip.source = source;
  ip.destination = destination;
  ip.protocol = protocol;
  ip.payload_len = static_cast<std::uint16_t>(payload.size());
  std::vector<std::byte> packet(ip.buffer_len() + payload.size());
  ip.emit(packet);
  std::copy(payload.begin(), payload.end(), packet.begin() + 20);
  return packet;
}

inline std::vector<std::byte> udp_datagram(packet::Ipv4Address source,
                                           packet::Ipv4Address destination,
                                           std::uint16_t source_port,
                                           std::uint16_t destination_port,
                                           packet::ConstBytes payload) {
  const packet::UdpRepr udp{source_port, destination_port, payload};
  std::vector<std::byte> datagram(udp.buffer_len());
  udp.emit(datagram, source, destination);
  return ipv4_packet(source, destination, packet::ip_protocol::kUdp, datagram);
}

inline std::vector<std::byte> icmp_echo_request(packet::Ipv4Address source,
                                                packet::Ipv4Address destination,
                                                std::uint16_t ident, std::uint16_t seq,
                                                packet::ConstBytes data) {
  packet::IcmpRepr echo;
  echo.kind = packet::IcmpRepr::Kind::kEchoRequest;
  echo.echo_ident = ident;
  echo.echo_seq = seq;
  echo.data = data;
  std::vector<std::byte> message(echo.buffer_len());
  echo.emit(message);
  return ipv4_packet(source, destination, packet::ip_protocol::kIcmp, message);
}

// What a sent frame carries, parsed strictly (checksums verified unless offloaded).
struct ParsedIpv4 {
  packet::EthernetRepr ethernet;
  packet::Ipv4Repr ip;
  packet::ConstBytes payload;
};

inline std::optional<ParsedIpv4> parse_ipv4(const Frame& frame) {
  const auto ethernet = packet::EthernetView<packet::ConstBytes>::checked(frame);
  if (!ethernet || ethernet->ethertype() != packet::ethertype::kIpv4) {
    return std::nullopt;
  }
  const auto view = packet::Ipv4View<packet::ConstBytes>::checked(ethernet->payload());
  const auto ip = view ? packet::Ipv4Repr::parse(*view) : std::nullopt;
  if (!ip) {
    return std::nullopt;
  }
  return ParsedIpv4{*packet::EthernetRepr::parse(*ethernet), *ip, view->payload()};
}

inline std::optional<packet::ArpRepr> parse_arp(const Frame& frame) {
  const auto ethernet = packet::EthernetView<packet::ConstBytes>::checked(frame);
  if (!ethernet || ethernet->ethertype() != packet::ethertype::kArp) {
    return std::nullopt;
  }
  const auto view = packet::ArpView<packet::ConstBytes>::checked(ethernet->payload());
  return view ? packet::ArpRepr::parse(*view) : std::nullopt;
}

}  // namespace nslab::ustack::net::testing
