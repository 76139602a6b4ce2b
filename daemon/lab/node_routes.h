#pragma once

// A node's kernel routes as netlink writes them, and what `link up` must put back: the
// kernel flushes a route (and IPv6 addresses) when its interface goes down, and does not
// restore them when it comes up again, so a node whose own interface flapped would stay
// without its default route.

#include <vector>

#include "absl/status/status.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netlink/routes.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// The routes of `node` (the topology's, auto routes included), in order. None for a ustack
// node: its routes are its stack's.
std::vector<netlink::RouteSpec> KernelRoutesOf(const nslab::v1::Node& node);

// After `interface` of `node` came back up: re-adds its addresses from the topology (those
// still there stay) and puts back every route of the node that leaves through it (its dev,
// or a gateway inside one of its prefixes). Routes through other interfaces are left alone.
absl::Status RestoreAfterLinkUp(const netlink::RouteSocket& sock,
                                const nslab::v1::Topology& topology, const std::string& node,
                                const std::string& interface);

}  // namespace nslab::lab
