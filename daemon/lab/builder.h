#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "daemon/events/progress.h"
#include "daemon/impair/kernel/kernel_plan.h"
#include "daemon/lab/lab_wires.h"
#include "daemon/netns/netns.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// Namespaces a lab of this topology is made of, in node order.
std::vector<std::string> NamespacesOf(const nslab::v1::Topology& topology, const std::string& lab);

// Whether the topology asks for IPv6 anywhere: an address, a route or a rule with one, or
// a net.ipv6 sysctl. A lab without it gets no IPv6 link-local addresses.
bool UsesIpv6(const nslab::v1::Topology& topology);

// Builds every kernel object of a validated topology: namespaces, loopbacks, bridges,
// veth pairs, addresses, routes, rules, sysctls, nftables rulesets. If a step fails,
// everything built so far is removed and the error names the step. Rulesets come as text:
// the daemon opens no file a topology names.
// The mode each link gets (veth or wire, never auto), in topology order.
using LinkModes = std::vector<nslab::v1::LinkMode>;

// Called once every node's namespace exists, before any link is made, with their identities
// in node order; an error stops the build (and rolls it back).
using NamespacesMade = std::function<absl::Status(const std::vector<netns::Identity>&)>;

// Wire links are created through `wires`, which keeps them running after the build.
// `progress` (may be null) counts each node, link and phase as it is done.
absl::Status BuildLab(const nslab::v1::Topology& topology, const std::string& lab,
                      const impair::kernel::KernelFeatures& features, const LinkModes& modes,
                      LabWires* wires, const NamespacesMade& namespaces_made = nullptr,
                      events::ProgressReporter* progress = nullptr);

// The part of a topology BuildLabPart adds to a lab that is running (an apply): by node index,
// the nodes whose namespace it makes (the others exist) and those whose routes, rules,
// sysctls and ruleset it sets; by link index, the links it makes (with their addresses and
// impairments). A switch that gets a port here must have no leaf bridges (kBridgeMaxPorts).
struct BuildScope {
  std::vector<bool> make_node;
  std::vector<bool> finish_node;
  std::vector<bool> make_link;
  // The first veth ifindex (by link index, as BuildLab's); 0 = BuildLab's own. A part needs
  // indexes the lab's running links do not hold in the same namespaces.
  int first_ifindex = 0;
};

// Builds `scope` of `topology` into running lab `lab`. `namespaces_made` gets identities by
// node index, empty for nodes it did not make. If a step fails, what this call made is
// removed (its namespaces, links, wires) and the rest of the lab is left as it was.
absl::Status BuildLabPart(const nslab::v1::Topology& topology, const std::string& lab,
                          const impair::kernel::KernelFeatures& features, const LinkModes& modes,
                          LabWires* wires, const BuildScope& scope,
                          const NamespacesMade& namespaces_made = nullptr);

}  // namespace nslab::lab
