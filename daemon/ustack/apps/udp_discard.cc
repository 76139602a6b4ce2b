#include "daemon/ustack/apps/udp_discard.h"

namespace nslab::ustack::apps {

absl::Status start_udp_discard(net::Udp& udp, std::uint16_t port) {
  return udp.bind(port, [](const net::UdpDatagram&) {});
}

}  // namespace nslab::ustack::apps
