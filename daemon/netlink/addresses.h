#pragma once

#include <string>

#include "absl/status/status.h"
#include "daemon/netlink/route_socket.h"

namespace nslab::netlink {

// Adds an IPv4 or IPv6 address in CIDR form to `ifname`. IPv6 addresses skip duplicate
// address detection so a lab is usable the moment it is built.
absl::Status AddAddress(const RouteSocket& sock, const std::string& ifname,
                        const std::string& cidr);
// Removes an address from `ifname`; OK when it is not there.
absl::Status DeleteAddress(const RouteSocket& sock, const std::string& ifname,
                           const std::string& cidr);

}  // namespace nslab::netlink
