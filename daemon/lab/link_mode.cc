#include "daemon/lab/link_mode.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
    return {nslab::v1::LINK_MODE_WIRE, "auto: flows are played on a wire"};
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

}  // namespace nslab::lab
