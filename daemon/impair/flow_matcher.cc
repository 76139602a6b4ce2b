// FlowMatcher::Matches: a compiled match against the bytes of one frame. Frames come from
// namespaces nslab does not control: nothing here reads past the frame, and nothing allocates.
#include "daemon/impair/flow_match.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace nslab::impair {
namespace {

using Bytes = std::span<const std::byte>;

// ----- Frames

uint8_t At(Bytes bytes, size_t at) { return static_cast<uint8_t>(bytes[at]); }

// Big-endian 16 bits at `at`; the caller has checked that at + 2 <= size.
uint16_t Load16(Bytes bytes, size_t at) {
  return static_cast<uint16_t>(At(bytes, at) << 8 | At(bytes, at + 1));
}

constexpr size_t kMacHeaderBytes = 12;  // destination and source MAC, before the ethertype
constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
// QinQ stacks two tags; a frame with more is not looked into.
constexpr int kMaxVlanTags = 2;
// Bounds the walk over IPv6 extension headers; past it the protocol is unknown.
constexpr int kMaxExtensionHeaders = 8;

constexpr uint8_t kHopByHop = 0;
constexpr uint8_t kRouting = 43;
constexpr uint8_t kFragment = 44;
constexpr uint8_t kDestinationOptions = 60;

bool IsVlanTpid(uint16_t type) { return type == 0x8100 || type == 0x88a8 || type == 0x9100; }

// What the conditions read from one IP packet. Addresses point into the frame.
struct IpHeaders {
  uint8_t ip_version = 0;
  uint8_t protocol = 0;
  bool fragment = false;
  const std::byte* source = nullptr;
  const std::byte* destination = nullptr;
  Bytes transport;  // empty when a fragment, or the header chain was cut short
};

bool ReadIpv4(Bytes packet, IpHeaders& headers) {
  constexpr size_t kMinHeader = 20;
  if (packet.size() < kMinHeader || At(packet, 0) >> 4 != 4) {
    return false;
  }
  const size_t header = static_cast<size_t>(At(packet, 0) & 0x0f) * 4;
  if (header < kMinHeader || header > packet.size()) {
    return false;
  }
  // Ethernet pads short frames: past the total length are padding bytes, not ports. A total
  // length that does not fit (0 under some offloads) leaves the frame as it is.
  const size_t total = Load16(packet, 2);
  if (total >= header && total <= packet.size()) {
    packet = packet.first(total);
  }
  headers.ip_version = 4;
  headers.protocol = At(packet, 9);
  headers.source = packet.data() + 12;
  headers.destination = packet.data() + 16;
  headers.fragment = (Load16(packet, 6) & 0x3fff) != 0;  // more fragments, or an offset
  if (!headers.fragment) {
    headers.transport = packet.subspan(header);
  }
  return true;
}

bool ReadIpv6(Bytes packet, IpHeaders& headers) {
  constexpr size_t kHeader = 40;
  if (packet.size() < kHeader || At(packet, 0) >> 4 != 6) {
    return false;
  }
  // As for IPv4's total length; 0 is a jumbogram's.
  const size_t payload = Load16(packet, 4);
  if (payload != 0 && kHeader + payload <= packet.size()) {
    packet = packet.first(kHeader + payload);
  }
  headers.ip_version = 6;
  headers.source = packet.data() + 8;
  headers.destination = packet.data() + 24;
  uint8_t next = At(packet, 6);
  size_t at = kHeader;
  for (int walked = 0; walked < kMaxExtensionHeaders; ++walked) {
    if (next != kHopByHop && next != kRouting && next != kDestinationOptions && next != kFragment) {
      headers.protocol = next;
      headers.transport = packet.subspan(at);
      return true;
    }
    if (packet.size() - at < 8) {  // every extension header is at least 8 bytes
      break;
    }
    const uint8_t inner = At(packet, at);
    if (next == kFragment) {
      // Even the first fragment: all fragments of a datagram are matched alike.
      headers.protocol = inner;
      headers.fragment = true;
      return true;
    }
    const size_t length = (static_cast<size_t>(At(packet, at + 1)) + 1) * 8;
    if (length > packet.size() - at) {
      break;
    }
    next = inner;
    at += length;
  }
  // Cut short, or too long a chain: the extension header reached stands for the protocol, which
  // no protocol condition names.
  headers.protocol = next;
  return true;
}

// The IP packet in an Ethernet frame, after up to two VLAN tags.
bool ReadFrame(Bytes frame, IpHeaders& headers) {
  size_t at = kMacHeaderBytes;
  if (frame.size() < at + 2) {
    return false;
  }
  uint16_t type = Load16(frame, at);
  for (int tags = 0; tags < kMaxVlanTags && IsVlanTpid(type) && frame.size() >= at + 6; ++tags) {
    at += 4;
    type = Load16(frame, at);
  }
  const Bytes packet = frame.subspan(at + 2);
  if (type == kEthertypeIpv4) {
    return ReadIpv4(packet, headers);
  }
  if (type == kEthertypeIpv6) {
    return ReadIpv6(packet, headers);
  }
  return false;
}

}  // namespace

bool FlowMatcher::Prefix::Holds(const std::byte* address, size_t length) const {
  if (any) {
    return true;
  }
  for (size_t i = 0; i < length; ++i) {
    if ((static_cast<uint8_t>(address[i]) & mask[i]) != network[i]) {
      return false;
    }
  }
  return true;
}

bool FlowMatcher::Matches(Bytes frame) const {
  if (matches_everything_) {
    return true;
  }
  IpHeaders headers;
  if (!ReadFrame(frame, headers)) {
    return false;
  }
  if (ip_version_ != 0 && headers.ip_version != ip_version_) {
    return false;
  }
  if (protocol_ >= 0 && headers.protocol != protocol_) {
    return false;
  }
  const size_t address_length = headers.ip_version == 4 ? 4 : 16;
  if (!source_.Holds(headers.source, address_length) ||
      !destination_.Holds(headers.destination, address_length)) {
    return false;
  }
  if (source_port_.any && destination_port_.any) {
    return true;
  }
  if (headers.transport.size() < 4) {  // a fragment, or a header cut short
    return false;
  }
  return source_port_.Holds(Load16(headers.transport, 0)) &&
         destination_port_.Holds(Load16(headers.transport, 2));
}

}  // namespace nslab::impair
