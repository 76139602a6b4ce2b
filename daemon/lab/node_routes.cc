#include "daemon/lab/node_routes.h"

#include <optional>
#include <string>

#include "daemon/netlink/addresses.h"
#include "daemon/topology/ip_address.h"

namespace nslab::lab {
namespace {

netlink::RouteKind KindOf(nslab::v1::RouteType type) {
  switch (type) {
    case nslab::v1::ROUTE_TYPE_BLACKHOLE:
      return netlink::RouteKind::kBlackhole;
    case nslab::v1::ROUTE_TYPE_UNREACHABLE:
      return netlink::RouteKind::kUnreachable;
    case nslab::v1::ROUTE_TYPE_PROHIBIT:
      return netlink::RouteKind::kProhibit;
    default:
      return netlink::RouteKind::kUnicast;
  }
}

const nslab::v1::Node* FindNode(const nslab::v1::Topology& topology, const std::string& name) {
  for (const auto& node : topology.nodes()) {
    if (node.name() == name) {
      return &node;
    }
  }
  return nullptr;
}

// The topology's addresses of node:interface (an end of one of its links).
std::vector<std::string> AddressesOf(const nslab::v1::Topology& topology, const std::string& node,
                                     const std::string& interface) {
  std::vector<std::string> addresses;
  for (const auto& link : topology.links()) {
    for (const auto* end : {&link.a(), &link.b()}) {
      if (end->node() == node && end->interface() == interface) {
        addresses.insert(addresses.end(), end->addresses().begin(), end->addresses().end());
      }
    }
  }
  return addresses;
}

bool LeavesThrough(const netlink::RouteSpec& route, const std::string& interface,
                   const std::vector<topology::IpPrefix>& prefixes) {
  for (const auto& hop : route.nexthops) {
    if (hop.dev == interface) {
      return true;
    }
    if (hop.dev.empty() && !hop.via.empty()) {
      const std::optional<topology::IpAddress> gateway = topology::ParseIpAddress(hop.via);
      for (const auto& prefix : prefixes) {
        if (gateway && prefix.Contains(*gateway)) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

std::vector<netlink::RouteSpec> KernelRoutesOf(const nslab::v1::Node& node) {
  std::vector<netlink::RouteSpec> routes;
  if (node.kind() == nslab::v1::NODE_KIND_USTACK) {
    return routes;
  }
  for (const auto& route : node.routes()) {
    netlink::RouteSpec spec{route.to(), KindOf(route.type()), {}, route.metric(), route.table()};
    if (!route.via().empty() || !route.dev().empty()) {
      spec.nexthops.push_back({route.via(), route.dev(), 1});
    }
    for (const auto& hop : route.nexthops()) {
      spec.nexthops.push_back({hop.via(), hop.dev(), hop.weight() == 0 ? 1 : hop.weight()});
    }
    routes.push_back(std::move(spec));
  }
  return routes;
}

absl::Status RestoreAfterLinkUp(const netlink::RouteSocket& sock,
                                const nslab::v1::Topology& topology, const std::string& node,
                                const std::string& interface) {
  const nslab::v1::Node* found = FindNode(topology, node);
  if (found == nullptr || found->kind() == nslab::v1::NODE_KIND_USTACK ||
      found->kind() == nslab::v1::NODE_KIND_SWITCH) {
    return absl::OkStatus();  // a bridge port or a stack's tap carries no address or route
  }
  std::vector<topology::IpPrefix> prefixes;
  for (const std::string& address : AddressesOf(topology, node, interface)) {
    if (absl::Status added = netlink::AddAddress(sock, interface, address);
        !added.ok() && !absl::IsAlreadyExists(added)) {
      return added;
    }
    if (auto prefix = topology::ParseIpPrefix(address)) {
      prefixes.push_back(*prefix);
    }
  }
  for (const netlink::RouteSpec& route : KernelRoutesOf(*found)) {
    if (!LeavesThrough(route, interface, prefixes)) {
      continue;
    }
    if (absl::Status put = netlink::ReplaceRoute(sock, route); !put.ok()) {
      return put;
    }
  }
  return absl::OkStatus();
}

}  // namespace nslab::lab
