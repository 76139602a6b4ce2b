#include "daemon/lab/plan.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/topology/names.h"
#include "proto/enum_defaults.h"

namespace nslab::lab {

std::vector<std::string> PlanSteps(const nslab::v1::Topology& topology, const std::string& lab) {
  std::vector<std::string> steps;
  for (const auto& node : topology.nodes()) {
    const std::string ns = topology::NamespaceOf(lab, node.name());
    steps.push_back(absl::StrCat("create namespace ", ns, " and bring up lo"));
    if (node.kind() == nslab::v1::NODE_KIND_ROUTER) {
      steps.push_back(absl::StrCat("enable IPv4 and IPv6 forwarding in ", ns));
    }
    if (node.kind() == nslab::v1::NODE_KIND_SWITCH) {
      steps.push_back(absl::StrCat("create bridge br0 in ", ns, " (stp ",
                                   node.bridge().stp() ? "on" : "off", ")"));
    }
  }
  for (const auto& link : topology.links()) {
    steps.push_back(absl::StrCat("create veth ", link.a().node(), ":", link.a().interface(),
                                 " <-> ", link.b().node(), ":", link.b().interface(),
                                 link.mtu() != 0 ? absl::StrCat(" mtu ", link.mtu()) : ""));
    for (const auto* end : {&link.a(), &link.b()}) {
      for (const auto& address : end->addresses()) {
        steps.push_back(
            absl::StrCat("add address ", address, " to ", end->node(), ":", end->interface()));
      }
    }
  }
  for (const auto& node : topology.nodes()) {
    for (const auto& route : node.routes()) {
      std::string step = absl::StrCat("add route ", route.to(), " in ", node.name());
      if (!nslab::v1::IsUnicast(route.type())) {
        absl::StrAppend(&step, " type ", nslab::v1::RouteType_Name(route.type()).substr(11));
      }
      if (!route.via().empty()) {
        absl::StrAppend(&step, " via ", route.via());
      }
      if (!route.dev().empty()) {
        absl::StrAppend(&step, " dev ", route.dev());
      }
      for (const auto& hop : route.nexthops()) {
        absl::StrAppend(&step, " nexthop ", hop.via().empty() ? hop.dev() : hop.via());
      }
      if (route.table() != 0) {
        absl::StrAppend(&step, " table ", route.table());
      }
      steps.push_back(step);
    }
    for (const auto& rule : node.rules()) {
      steps.push_back(absl::StrCat("add rule in ", node.name(), rule.from().empty() ? "" : " from ",
                                   rule.from(), rule.to().empty() ? "" : " to ", rule.to(),
                                   " lookup ", rule.table()));
    }
    for (const auto& [key, value] : node.sysctls()) {
      steps.push_back(absl::StrCat("set ", key, " = ", value, " in ", node.name()));
    }
    if (!node.nftables().empty() || !node.nftables_file().empty()) {
      steps.push_back(absl::StrCat("load nftables ruleset in ", node.name()));
    }
    for (const auto& process : node.run()) {
      steps.push_back(
          absl::StrCat("start in ", node.name(), ": ", absl::StrJoin(process.argv(), " ")));
    }
  }
  return steps;
}

}  // namespace nslab::lab
