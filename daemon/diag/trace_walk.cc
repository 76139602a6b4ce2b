#include "daemon/diag/trace_walk.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "daemon/diag/kernel_tables.h"
#include "daemon/diag/routing.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

std::string StripPrefix(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

}  // namespace

bool IsIpv4(const std::string& text) {
  in_addr addr{};
  return ::inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

LabMap MapOf(const nslab::v1::Topology& topology) {
  LabMap map;
  for (const auto& node : topology.nodes()) {
    map.kinds[node.name()] = node.kind();
  }
  for (const auto& link : topology.links()) {
    const EndpointRef a{link.a().node(), link.a().interface()};
    const EndpointRef b{link.b().node(), link.b().interface()};
    map.peers[a] = b;
    map.peers[b] = a;
    for (const auto* end : {&link.a(), &link.b()}) {
      for (const auto& cidr : end->addresses()) {
        map.owners[StripPrefix(cidr)] = {end->node(), end->interface()};
        map.node_addresses[end->node()].push_back(StripPrefix(cidr));
      }
    }
  }
  return map;
}

absl::StatusOr<int> NodeNamespaces::Get(const std::string& node) {
  if (auto it = open_.find(node); it != open_.end()) {
    return it->second.get();
  }
  auto name = labs_->NodeNamespace(lab_, node);
  if (!name.ok()) {
    return name.status();
  }
  auto fd = netns::Open(*name);
  if (!fd.ok()) {
    return fd.status();
  }
  const int raw = fd->get();
  open_[node] = std::move(*fd);
  return raw;
}

absl::Status Walk(NodeNamespaces& namespaces, const LabMap& map, std::string node,
                  std::string input, const FlowForm& form, int max_hops,
                  std::vector<nslab::v1::TraceHop>* hops) {
  std::set<EndpointRef> visited;
  FlowForm packet = form;  // at the source, its address is the kernel's preferred source
  for (int i = 0; i < max_hops; ++i) {
    auto fd = namespaces.Get(node);
    if (!fd.ok()) {
      return fd.status();
    }
    nslab::v1::TraceHop hop;
    hop.set_node(node);
    hop.set_input_interface(input);
    auto decision =
        GetRoute(*fd, RouteQuery{packet.dst, input.empty() ? "" : packet.src, 0, input});
    if (!decision.ok()) {
      return decision.status();
    }
    *hop.mutable_route() = *decision;
    if (input.empty() && packet.src.empty()) {
      packet.src = decision->preferred_source();
    }
    if (!decision->error().empty() || decision->type() != "unicast") {
      hops->push_back(std::move(hop));
      return absl::OkStatus();  // local delivery, or the packet dies here
    }
    hop.set_output_interface(decision->output_interface());
    if (auto links = ListLinkStats(*fd); links.ok()) {
      for (const auto& link : links->links()) {
        if (link.name() == decision->output_interface()) {
          hop.set_output_link_state(link.oper_state());
        }
      }
    }
    const std::string next_hop = decision->gateway().empty() ? packet.dst : decision->gateway();
    const EndpointRef out{node, decision->output_interface()};
    if (auto peer = map.peers.find(out);
        peer != map.peers.end() && map.kinds.at(peer->second.node) == nslab::v1::NODE_KIND_SWITCH) {
      hop.add_via_switches(peer->second.node);
    }
    auto owner = map.owners.find(next_hop);
    if (owner == map.owners.end()) {
      hop.set_note(absl::StrCat("next hop ", next_hop, " is not an address of the lab"));
      hops->push_back(std::move(hop));
      return absl::OkStatus();
    }
    hops->push_back(std::move(hop));
    if (!visited.insert(owner->second).second) {
      hops->back().set_note(
          absl::StrCat("routing loop: back to ", owner->second.node, ":", owner->second.interface));
      return absl::OkStatus();
    }
    node = owner->second.node;
    input = owner->second.interface;
  }
  return absl::OkStatus();
}

}  // namespace nslab::diag
