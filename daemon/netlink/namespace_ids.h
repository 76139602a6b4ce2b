#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "daemon/netlink/route_socket.h"

namespace nslab::netlink {

// Gives the namespace behind `peer_netns_fd` the id `id` in the socket's namespace (what
// `ip netns set` does), before anything there refers to it. AlreadyExists when the peer has
// an id there already or `id` is taken.
//
// Why a caller chooses: every announcement about a veth names its peer's namespace by this
// id, and the kernel finds the id by a linear scan of the namespace's ids in increasing
// order (__peernet2id), or gives the lowest free one. A switch with thousands of ports
// would scan past every earlier host for each announcement about the newest one: quadratic.
// Giving each new peer a lower id than the last puts it first in the scan.
absl::Status SetPeerNamespaceId(const RouteSocket& sock, int peer_netns_fd, int32_t id);

}  // namespace nslab::netlink
