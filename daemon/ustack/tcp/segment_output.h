#pragma once

// Where TCP's segments go: the IPv4 layer in production, an in-memory pipe in tests. TCP hands
// over a segment as a Repr; the output emits it (and its checksum) into its own buffer.

#include <cstddef>
#include <optional>

#include "daemon/ustack/packet/ipv4_address.h"
#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/tcp/endpoint.h"

namespace nslab::ustack::tcp {

class SegmentOutput {
 public:
  virtual ~SegmentOutput() = default;
  // From connection.local to connection.remote. False when it could not be sent (no route, a
  // full ring); TCP's timers recover as from a loss. With `cut_payload_len`, the segment is
  // longer than the MTU allows and the output (its NIC's segmentation offload) cuts it into
  // segments of that many payload bytes, the FIN and PSH going with the last, as the peer
  // would have received them had TCP cut them itself.
  virtual bool send_segment(const FourTuple& connection, const packet::TcpRepr& segment,
                            std::uint16_t cut_payload_len) = 0;
  // The address a connection to `destination` starts from; none without a route.
  virtual std::optional<packet::Ipv4Address> source_address_for(
      packet::Ipv4Address destination) const = 0;
  // Of the interface: the MSS announced is derived from it.
  virtual std::size_t mtu() const = 0;
  // The longest segment (TCP header and payload) send_segment() takes with a cut_payload_len;
  // what the MTU allows when the output cannot segment.
  virtual std::size_t max_offloaded_segment_len() const { return mtu() - kIpv4HeaderLen; }

 protected:
  static constexpr std::size_t kIpv4HeaderLen = 20;
};

}  // namespace nslab::ustack::tcp
