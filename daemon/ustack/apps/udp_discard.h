#pragma once

// RFC 863 discard over UDP: datagrams are received (and counted by UDP) and dropped.

#include <cstdint>

#include "absl/status/status.h"
#include "daemon/ustack/net/udp.h"

namespace nslab::ustack::apps {

absl::Status start_udp_discard(net::Udp& udp, std::uint16_t port);

}  // namespace nslab::ustack::apps
