#pragma once

// RFC 862 echo over UDP: every datagram goes back to where it came from, from the address it
// was sent to.

#include <cstdint>

#include "absl/status/status.h"
#include "daemon/ustack/net/udp.h"

namespace nslab::ustack::apps {

absl::Status start_udp_echo(net::Udp& udp, std::uint16_t port);

}  // namespace nslab::ustack::apps
