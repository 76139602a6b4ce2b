#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/scenario/lab/actions.h"

namespace nslab::scenario {

// Changes the lab to the step's topology; the undo applies the one it had before.
ActionHandler ApplyHandler() {
  return {
      [](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
        // The whole new topology is checked before the scenario starts, under the lab's
        // name (its own name: is ignored, as by ApplyLab).
        return lab::LabRegistry::Prepare(action.apply().topology(), topology.name()).status();
      },
      [](LabContext& context, const nslab::v1::Action& action) -> absl::StatusOr<Applied> {
        auto before = context.labs->TopologyOf(context.lab);
        if (!before.ok()) {
          return before.status();
        }
        auto applied = context.labs->Apply(context.lab, action.apply().topology(),
                                           /*dry_run=*/false, lab::LabRegistry::View::kBasic);
        if (!applied.ok()) {
          return applied.status();
        }
        std::vector<std::string> lines;
        for (const auto& change : applied->changes) {
          lines.push_back(lab::PlanLine(change));
        }
        lab::LabRegistry* labs = context.labs;
        const std::string name = context.lab;
        return Applied{
            applied->changes.empty()
                ? std::string("the lab already matched the topology")
                : absl::StrCat(applied->changes.size(), " changes: ", absl::StrJoin(lines, "; ")),
            [labs, name, previous = *std::move(before)]() {
              return labs->Apply(name, previous, /*dry_run=*/false, lab::LabRegistry::View::kBasic)
                  .status();
            }};
      }};
}

}  // namespace nslab::scenario
