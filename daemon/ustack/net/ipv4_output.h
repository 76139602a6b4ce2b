#pragma once

// The seam between IPv4 and the protocols above it: what they receive, and how they send.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/functional/function_ref.h"
#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::net {

// An IPv4 datagram addressed to this host, header checked.
struct Ipv4Packet {
  packet::Ipv4Address source;
  packet::Ipv4Address destination;
  std::uint8_t protocol = 0;
  packet::ConstBytes payload;
  packet::ConstBytes datagram;    // header and payload: what an ICMP error quotes
  bool to_broadcast = false;      // limited or directed broadcast
  bool checksum_trusted = false;  // the NIC vouched for the TCP/UDP checksum
};

class ProtocolHandler {
 public:
  virtual ~ProtocolHandler() = default;
  // False when no protocol here speaks packet.protocol.
  virtual bool deliver(const Ipv4Packet& packet) = 0;
  // After deliver() said false: answer (ICMP protocol unreachable) if appropriate.
  virtual void protocol_unreachable(const Ipv4Packet& packet) = 0;
};

// A TCP payload longer than the MTU allows, sent whole for the link to cut into segments of
// `payload_len` bytes each, every one with a copy of the transport header (`l4_header_len`).
struct Ipv4Segmentation {
  std::uint16_t payload_len = 0;
  std::uint16_t l4_header_len = 0;
};

struct Ipv4SendRequest {
  packet::Ipv4Address destination;
  std::optional<packet::Ipv4Address> source;  // none: the route's preferred source
  std::uint8_t protocol = 0;
  std::size_t payload_len = 0;
  // Where the transport checksum lies in the payload, if the link may complete it.
  std::optional<std::uint16_t> l4_checksum_offset;
  // Allows a packet longer than the MTU when the link offers segmentation offload.
  std::optional<Ipv4Segmentation> segmentation;
};

enum class SendResult {
  kSent,
  kQueued,  // waits for ARP
  kNoRoute,
  kTooBig,   // larger than the MTU; fragmentation is not implemented
  kDropped,  // the NIC's ring was full, or the ARP queue
};

inline bool send_succeeded(SendResult result) {
  return result == SendResult::kSent || result == SendResult::kQueued;
}

// Writes the payload once the source address is chosen. `checksum_offloaded`: leave the
// pseudo-header sum in the transport checksum field (the link completes it).
using PayloadWriter = absl::FunctionRef<void(packet::MutableBytes payload,
                                             packet::Ipv4Address source, bool checksum_offloaded)>;

class Ipv4Output {
 public:
  virtual ~Ipv4Output() = default;
  // The longest IPv4 packet send_ipv4() takes with a segmentation; the MTU without
  // segmentation offload.
  virtual std::size_t max_segmented_packet_len() const = 0;
  virtual SendResult send_ipv4(const Ipv4SendRequest& request, PayloadWriter write_payload) = 0;
};

}  // namespace nslab::ustack::net
