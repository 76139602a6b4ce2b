#include "daemon/lab/plan.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/topology/names.h"
#include "proto/enum_defaults.h"

namespace nslab::lab {

std::string RouteDetails(const nslab::v1::Route& route) {
  std::string text;
  if (!nslab::v1::IsUnicast(route.type())) {
    absl::StrAppend(&text, " type ", nslab::v1::RouteType_Name(route.type()).substr(11));
  }
  if (!route.via().empty()) {
    absl::StrAppend(&text, " via ", route.via());
  }
  if (!route.dev().empty()) {
    absl::StrAppend(&text, " dev ", route.dev());
  }
  for (const auto& hop : route.nexthops()) {
    absl::StrAppend(&text, " nexthop ", hop.via().empty() ? hop.dev() : hop.via());
  }
  if (route.table() != 0) {
    absl::StrAppend(&text, " table ", route.table());
  }
  return text;
}

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
      steps.push_back(
          absl::StrCat("add route ", route.to(), " in ", node.name(), RouteDetails(route)));
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
