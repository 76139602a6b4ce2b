#pragma once

#include <string>

#include "absl/status/status.h"
#include "daemon/netlink/route_socket.h"

namespace nslab::netlink {

// Installs a root qdisc of `kind` ("netem", "tbf", "htb") with minimal valid parameters
// on `ifname` and removes it again: the way to learn whether this kernel has the
// scheduler (NOT_FOUND when the module is missing).
absl::Status ProbeRootQdisc(const RouteSocket& sock, const std::string& ifname,
                            const std::string& kind);

}  // namespace nslab::netlink
