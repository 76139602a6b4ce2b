#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace nslab::impair {

// The traffic class of a frame: the header fields that stay the same when a lab is built
// again and the same steps are taken. Each class draws its fates from a stream of its own, so
// that frames of one class meet the same fates however other traffic (the kernel's router
// solicitations, MLD reports, ARP, other connections) is interleaved with them.
//
// IPv4 and IPv6 (after up to two VLAN tags): source and destination address, the protocol
// (IPv6: after hop-by-hop, routing and destination-options headers), and
//   - TCP, UDP, UDP-Lite, DCCP, SCTP: the destination port;
//   - ICMP, ICMPv6: the type.
// The source port and the ICMP echo identifier are left out on purpose: the kernel picks them
// at random, so they differ from run to run. Fragments carry no port (the first one included),
// so that all fragments of a datagram are of one class.
// Anything else (ARP, LLDP, ...): the ethertype alone; 802.3 length frames and runts share
// ethertype 0. An IP header cut short, or not IPv4/IPv6 inside, leaves the ethertype alone too.
//
// Frames come from namespaces nslab does not control: parsing never reads past the frame.
struct FlowClass {
  uint16_t ethertype = 0;  // after VLAN tags; 0 for 802.3 length frames and runts
  uint8_t ip_version = 0;  // 4, 6, or 0 when the frame is classed by its ethertype alone
  uint8_t protocol = 0;    // IP protocol / IPv6 next header after extension headers
  uint16_t selector = 0;   // destination port or ICMP type; 0 when there is none
  // IPv4 addresses take the first 4 bytes.
  std::array<uint8_t, 16> source{};
  std::array<uint8_t, 16> destination{};

  bool operator==(const FlowClass&) const = default;
};

FlowClass ClassifyFrame(std::span<const std::byte> frame);

// A 64-bit digest of the class, the same on every platform, compiler and run. Distinct
// classes collide with probability ~n^2 / 2^65 for n classes: negligible, and harmless (they
// would share a stream).
uint64_t FlowClassKey(const FlowClass& flow_class);

// The seed of one class's stream within a direction: a keyed mix of the direction's seed
// (SeedFor) and the class key.
uint64_t ClassSeed(uint64_t direction_seed, uint64_t class_key);

}  // namespace nslab::impair
