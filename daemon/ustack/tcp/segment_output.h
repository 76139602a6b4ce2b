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
  // full ring); TCP's timers recover as from a loss.
  virtual bool send_segment(const FourTuple& connection, const packet::TcpRepr& segment) = 0;
  // The address a connection to `destination` starts from; none without a route.
  virtual std::optional<packet::Ipv4Address> source_address_for(
      packet::Ipv4Address destination) const = 0;
  // Of the interface: the MSS announced is derived from it.
  virtual std::size_t mtu() const = 0;
};

}  // namespace nslab::ustack::tcp
