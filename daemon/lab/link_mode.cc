#include "daemon/lab/link_mode.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/kernel_support.h"
#include "daemon/lab/link_impairment.h"

namespace nslab::lab {

LinkModeChoice ChooseLinkMode(const nslab::v1::Link& link,
                              const impair::kernel::KernelFeatures& features) {
  switch (link.mode()) {
    case nslab::v1::LINK_MODE_VETH:
      return {nslab::v1::LINK_MODE_VETH, "mode: veth in the topology"};
    case nslab::v1::LINK_MODE_WIRE:
      return {nslab::v1::LINK_MODE_WIRE, "mode: wire in the topology"};
    default:
      break;
  }
  if (link.flows_size() > 0) {
    if (absl::Status status = CheckKernelFlows(link, features); !status.ok()) {
      return {nslab::v1::LINK_MODE_WIRE,
              absl::StrCat("auto: the kernel cannot play its flows (", status.message(), ")")};
    }
    return {nslab::v1::LINK_MODE_VETH, "auto: the kernel plays every flow and impairment"};
  }
  std::set<std::string> unsupported;
  bool impaired = false;
  for (const auto& impairment : RequestedImpairments(link)) {
    impaired = impaired || impairment.ByteSizeLong() != 0;
    for (auto field : impair::KernelBackendSupport(impairment, features.netem).unsupported) {
      unsupported.emplace(field);
    }
  }
  if (unsupported.empty()) {
    return {nslab::v1::LINK_MODE_VETH,
            impaired ? "auto: the kernel honours every impairment" : "auto: no impairment"};
  }
  return {nslab::v1::LINK_MODE_WIRE,
          absl::StrCat("auto: the kernel cannot do ", absl::StrJoin(unsupported, ", "),
                       features.netem ? "" : " (no sch_netem)")};
}

absl::Status CheckKernelFlows(const nslab::v1::Link& link,
                              const impair::kernel::KernelFeatures& features) {
  if (link.flows_size() == 0) {
    return absl::OkStatus();
  }
  const auto impairments = RequestedImpairments(link);
  const uint32_t mtu = link.mtu() == 0 ? 1500 : link.mtu();
  // Each direction's flows as RequestedFlows makes them, labelled by their place in the link.
  for (int direction = 0; direction < 2; ++direction) {
    std::vector<impair::kernel::KernelFlow> flows;
    for (int i = 0; i < link.flows_size(); ++i) {
      const nslab::v1::FlowImpairment& flow = link.flows(i);
      const bool has = direction == 0 ? flow.has_a_to_b() : flow.has_b_to_a();
      if (!has && !flow.has_impair()) {
        continue;
      }
      const nslab::v1::Impairment& impairment =
          has ? (direction == 0 ? flow.a_to_b() : flow.b_to_a()) : flow.impair();
      flows.push_back(
          {flow.match(), impairment,
           absl::StrCat("flows[", i, "] (\"", impair::FlowMatchText(flow.match()), "\")")});
    }
    if (auto plan = impair::kernel::PlanKernelFlows(impairments[direction], flows, features, mtu);
        !plan.ok()) {
      return plan.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace nslab::lab
