#include "daemon/ustack/net/tcp_output.h"

#include "daemon/ustack/packet/ip_protocol.h"

namespace nslab::ustack::net {

bool TcpSegmentOutput::send_segment(const tcp::FourTuple& connection,
                                    const packet::TcpRepr& segment) {
  const SendResult result = interface_.send_ipv4(
      Ipv4SendRequest{connection.remote.address, connection.local.address,
                      packet::ip_protocol::kTcp, segment.buffer_len(),
                      static_cast<std::uint16_t>(packet::tcp_field::kChecksum)},
      [&](packet::MutableBytes out, packet::Ipv4Address source, bool offloaded) {
        segment.emit(out, source, connection.remote.address,
                     offloaded ? packet::Checksum::kOffload : packet::Checksum::kCompute);
      });
  return send_succeeded(result);
}

std::optional<packet::Ipv4Address> TcpSegmentOutput::source_address_for(
    packet::Ipv4Address destination) const {
  const std::optional<RouteDecision> route = interface_.routes().lookup(destination);
  if (!route) {
    return std::nullopt;
  }
  return route->source;
}

}  // namespace nslab::ustack::net
