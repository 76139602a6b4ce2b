#pragma once

// The IPv4 routing table of a host with one interface: connected routes from its addresses,
// static routes through gateways, a default route (0.0.0.0/0). Longest prefix wins; on a tie
// the route added first.

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "daemon/ustack/net/ipv4_cidr.h"
#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::net {

struct Route {
  Ipv4Cidr destination;                        // network address and prefix
  std::optional<packet::Ipv4Address> gateway;  // none: connected
  packet::Ipv4Address source;                  // preferred source address
};

struct RouteDecision {
  packet::Ipv4Address next_hop;  // the gateway, or the destination itself
  packet::Ipv4Address source;
  bool connected = false;
};

class RoutingTable {
 public:
  // The subnet of an interface address, reached directly, with that address as source.
  void add_connected(const Ipv4Cidr& interface_address);
  // The gateway must lie in a connected subnet (added before); INVALID_ARGUMENT otherwise.
  absl::Status add_via(const Ipv4Cidr& destination, packet::Ipv4Address gateway);

  std::optional<RouteDecision> lookup(packet::Ipv4Address destination) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  const Route* best_match(packet::Ipv4Address destination, bool connected_only) const;
  std::vector<Route> routes_;
};

}  // namespace nslab::ustack::net
