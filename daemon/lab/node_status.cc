#include "daemon/lab/node_status.h"

#include "absl/strings/str_cat.h"
#include "daemon/common/status_macros.h"
#include "daemon/netlink/links.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netns/netns.h"
#include "daemon/topology/names.h"

namespace nslab::lab {
namespace {

std::string PeerOf(const nslab::v1::Topology& topology, const std::string& node,
                   const std::string& interface) {
  for (const auto& link : topology.links()) {
    if (link.a().node() == node && link.a().interface() == interface) {
      return absl::StrCat(link.b().node(), ":", link.b().interface());
    }
    if (link.b().node() == node && link.b().interface() == interface) {
      return absl::StrCat(link.a().node(), ":", link.a().interface());
    }
  }
  return "";
}

// What the node's stack was started with (UstackArgv): the stack's control socket reports
// none of it, and the kernel of its namespace holds none of it.
nslab::v1::UstackInterfaceStatus StackOf(const nslab::v1::Topology& topology,
                                         const nslab::v1::Node& node) {
  nslab::v1::UstackInterfaceStatus stack;
  stack.set_source("topology");
  stack.set_mtu(1500);
  for (const auto& link : topology.links()) {
    for (const auto* end : {&link.a(), &link.b()}) {
      if (end->node() != node.name()) {
        continue;
      }
      stack.set_name(end->interface());
      stack.mutable_addresses()->CopyFrom(end->addresses());
      stack.set_mac(end->mac());
      if (link.mtu() != 0) {
        stack.set_mtu(link.mtu());
      }
    }
  }
  for (const auto& route : node.routes()) {
    stack.add_routes(absl::StrCat(route.to(), " via ", route.via()));
  }
  return stack;
}

}  // namespace

absl::StatusOr<nslab::v1::NodeStatus> ReadNodeStatus(const nslab::v1::Topology& topology,
                                                     const std::string& lab,
                                                     const nslab::v1::Node& node) {
  nslab::v1::NodeStatus status;
  status.set_name(node.name());
  status.set_kind(node.kind());
  status.set_netns(topology::NamespaceOf(lab, node.name()));
  NSLAB_ASSIGN_OR_RETURN(auto fd, netns::Open(status.netns()));
  NSLAB_ASSIGN_OR_RETURN(auto sock, netlink::RouteSocket::OpenIn(fd.get()));
  NSLAB_ASSIGN_OR_RETURN(auto links, netlink::ListLinks(sock));
  for (const auto& link : links) {
    auto* out = status.add_interfaces();
    out->set_name(link.name);
    out->set_ifindex(link.ifindex);
    out->set_mac(link.mac);
    out->set_mtu(link.mtu);
    out->set_up(link.up);
    out->set_carrier(link.carrier);
    out->set_kind(link.kind.empty() && link.name == "lo" ? "loopback" : link.kind);
    for (const auto& address : link.addresses) {
      out->add_addresses(address);
    }
    out->set_peer(PeerOf(topology, node.name(), link.name));
  }
  if (node.kind() == nslab::v1::NODE_KIND_USTACK) {
    *status.mutable_stack() = StackOf(topology, node);
  }
  return status;
}

}  // namespace nslab::lab
