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

}  // namespace nslab::lab
