#include "daemon/ustack/apps/udp_echo.h"

namespace nslab::ustack::apps {

absl::Status start_udp_echo(net::Udp& udp, std::uint16_t port) {
  return udp.bind(port, [&udp, port](const net::UdpDatagram& datagram) {
    // Source port 0: the sender expects no answer (RFC 768).
    if (datagram.source_port == 0) {
      return;
    }
    udp.send(port, datagram.source, datagram.source_port, datagram.payload,
             datagram.to_broadcast ? std::nullopt : std::optional(datagram.destination));
  });
}

}  // namespace nslab::ustack::apps
