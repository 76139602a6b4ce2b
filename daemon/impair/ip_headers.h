#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace nslab::impair {

// What the flow classifier (flow_class.h) and the flow matcher (flow_match.h) read from an
// Ethernet frame: the ethertype after up to two VLAN tags and, for IPv4 and IPv6, the IP
// header's fields. Frames come from namespaces nslab does not control: nothing here reads past
// the frame, and nothing allocates.
struct IpHeaders {
  // After VLAN tags (a frame with more than two is read by its third tag's TPID); 0 for a
  // frame too short to have one.
  uint16_t ethertype = 0;
  uint8_t ip_version = 0;  // 4 or 6; 0 when the frame holds no IP header that could be read
  // IPv6: the next header after hop-by-hop, routing, destination-options and fragment headers;
  // when the chain is cut short or longer than 8, the extension header reached.
  uint8_t protocol = 0;
  bool fragment = false;              // any fragment, the first one included
  const std::byte* source = nullptr;  // 4 or 16 bytes in the frame
  const std::byte* destination = nullptr;
  // The transport header and what follows, up to the IP length (Ethernet padding is not part
  // of it); empty for a fragment or a header chain cut short.
  std::span<const std::byte> transport;
};

IpHeaders ReadIpHeaders(std::span<const std::byte> frame);

// Big-endian 16 bits at `at`; the caller has checked that at + 2 <= bytes.size().
inline uint16_t Load16(std::span<const std::byte> bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(bytes[at]) << 8 |
                               static_cast<uint8_t>(bytes[at + 1]));
}

}  // namespace nslab::impair
