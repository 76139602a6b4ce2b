#include "daemon/ustack/net/tcp_output.h"

#include "daemon/ustack/packet/ip_protocol.h"

namespace nslab::ustack::net {

bool TcpSegmentOutput::send_segment(const tcp::FourTuple& connection,
                                    const packet::TcpRepr& segment, std::uint16_t cut_payload_len) {
  Ipv4SendRequest request{connection.remote.address,
                          connection.local.address,
                          packet::ip_protocol::kTcp,
                          segment.buffer_len(),
                          static_cast<std::uint16_t>(packet::tcp_field::kChecksum),
                          std::nullopt};
  if (cut_payload_len != 0) {
    request.segmentation =
        Ipv4Segmentation{cut_payload_len, static_cast<std::uint16_t>(segment.header_len())};
  }
  const SendResult result = interface_.send_ipv4(
      request, [&](packet::MutableBytes out, packet::Ipv4Address source, bool offloaded) {
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
