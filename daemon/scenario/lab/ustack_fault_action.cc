#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/lab/ustack_control.h"
#include "daemon/scenario/lab/actions.h"
#include "daemon/scenario/lab/lab_targets.h"

namespace nslab::scenario {
namespace {

std::string Describe(const std::vector<nslab::v1::UstackFault>& faults) {
  if (faults.empty()) {
    return "no faults in force";
  }
  return absl::StrCat("in force: ",
                      absl::StrJoin(faults, ", ", [](std::string* out, const auto& fault) {
                        absl::StrAppend(out, fault.port(), " ", fault.mode());
                      }));
}

}  // namespace

ActionHandler UstackFaultHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return RequireUstackNode(topology, action.ustack_fault().node());
          },
          [](LabContext& context, const nslab::v1::Action& action) -> absl::StatusOr<Applied> {
            const auto& spec = action.ustack_fault();
            // What the port had before, so that the undo restores it rather than clearing.
            auto stats = lab::GetUstackStats(*context.labs, context.lab, spec.node());
            if (!stats.ok()) {
              return stats.status();
            }
            nslab::v1::UstackFault before;
            before.set_port(spec.port());
            before.set_mode("clear");
            for (const auto& fault : stats->faults()) {
              if (fault.port() == spec.port()) {
                before = fault;
              }
            }
            nslab::v1::UstackFault fault;
            fault.set_port(spec.port());
            fault.set_mode(spec.mode());
            fault.set_bytes(spec.bytes());
            fault.set_rate(spec.rate());
            auto now = lab::SetUstackFault(*context.labs, context.lab, spec.node(), fault);
            if (!now.ok()) {
              return now.status();
            }
            lab::LabRegistry* labs = context.labs;
            const std::string lab = context.lab;
            const std::string node = spec.node();
            return Applied{Describe(*now), [labs, lab, node, before]() {
                             return lab::SetUstackFault(*labs, lab, node, before).status();
                           }};
          }};
}

}  // namespace nslab::scenario
