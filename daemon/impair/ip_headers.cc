#include "daemon/impair/ip_headers.h"

namespace nslab::impair {
namespace {

using Bytes = std::span<const std::byte>;

constexpr size_t kMacHeaderBytes = 12;  // destination and source MAC, before the ethertype
constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
// QinQ stacks two tags; a frame with more is read by the third tag's TPID.
constexpr int kMaxVlanTags = 2;
// Bounds the walk over IPv6 extension headers.
constexpr int kMaxExtensionHeaders = 8;

constexpr uint8_t kHopByHop = 0;
constexpr uint8_t kRouting = 43;
constexpr uint8_t kFragment = 44;
constexpr uint8_t kDestinationOptions = 60;

uint8_t At(Bytes bytes, size_t at) { return static_cast<uint8_t>(bytes[at]); }

bool IsVlanTpid(uint16_t type) { return type == 0x8100 || type == 0x88a8 || type == 0x9100; }

void ReadIpv4(Bytes packet, IpHeaders& headers) {
  constexpr size_t kMinHeader = 20;
  if (packet.size() < kMinHeader || At(packet, 0) >> 4 != 4) {
    return;
  }
  const size_t header = static_cast<size_t>(At(packet, 0) & 0x0f) * 4;
  if (header < kMinHeader || header > packet.size()) {
    return;
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
}

void ReadIpv6(Bytes packet, IpHeaders& headers) {
  constexpr size_t kHeader = 40;
  if (packet.size() < kHeader || At(packet, 0) >> 4 != 6) {
    return;
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
      return;
    }
    if (packet.size() - at < 8) {  // every extension header is at least 8 bytes
      break;
    }
    const uint8_t inner = At(packet, at);
    if (next == kFragment) {
      headers.protocol = inner;
      headers.fragment = true;
      return;
    }
    const size_t length = (static_cast<size_t>(At(packet, at + 1)) + 1) * 8;
    if (length > packet.size() - at) {
      break;
    }
    next = inner;
    at += length;
  }
  headers.protocol = next;  // cut short, or too long a chain
}

}  // namespace

IpHeaders ReadIpHeaders(Bytes frame) {
  IpHeaders headers;
  size_t at = kMacHeaderBytes;
  if (frame.size() < at + 2) {
    return headers;
  }
  uint16_t type = Load16(frame, at);
  for (int tags = 0; tags < kMaxVlanTags && IsVlanTpid(type) && frame.size() >= at + 6; ++tags) {
    at += 4;
    type = Load16(frame, at);
  }
  headers.ethertype = type;
  const Bytes packet = frame.subspan(at + 2);
  if (type == kEthertypeIpv4) {
    ReadIpv4(packet, headers);
  } else if (type == kEthertypeIpv6) {
    ReadIpv6(packet, headers);
  }
  return headers;
}

}  // namespace nslab::impair
