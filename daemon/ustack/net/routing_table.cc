#include "daemon/ustack/net/routing_table.h"

#include "absl/strings/str_cat.h"

namespace nslab::ustack::net {

void RoutingTable::add_connected(const Ipv4Cidr& interface_address) {
  routes_.push_back(Route{Ipv4Cidr{interface_address.network(), interface_address.prefix_len},
                          std::nullopt, interface_address.address});
}

absl::Status RoutingTable::add_via(const Ipv4Cidr& destination, packet::Ipv4Address gateway) {
  const Route* to_gateway = best_match(gateway, /*connected_only=*/true);
  if (to_gateway == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("route ", destination.to_string(), " via ", gateway.to_string(),
                     ": the gateway is not in a subnet of the interface's addresses"));
  }
  routes_.push_back(
      Route{Ipv4Cidr{destination.network(), destination.prefix_len}, gateway, to_gateway->source});
  return absl::OkStatus();
}

const Route* RoutingTable::best_match(packet::Ipv4Address destination, bool connected_only) const {
  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if ((connected_only && route.gateway) || !route.destination.contains(destination)) {
      continue;
    }
    if (best == nullptr || route.destination.prefix_len > best->destination.prefix_len) {
      best = &route;
    }
  }
  return best;
}

std::optional<RouteDecision> RoutingTable::lookup(packet::Ipv4Address destination) const {
  const Route* route = best_match(destination, /*connected_only=*/false);
  if (route == nullptr) {
    return std::nullopt;
  }
  if (route->gateway) {
    return RouteDecision{*route->gateway, route->source, false};
  }
  return RouteDecision{destination, route->source, true};
}

}  // namespace nslab::ustack::net
