#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/chaos/chaos_engine.h"
#include "daemon/scenario/lab/actions.h"
#include "daemon/scenario/lab/lab_targets.h"

namespace nslab::scenario {

ActionHandler PartitionHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            for (const auto& group : action.partition().groups()) {
              for (const auto& node : group.nodes()) {
                if (auto status = RequireNode(topology, node); !status.ok()) {
                  return status;
                }
              }
            }
            return absl::OkStatus();
          },
          [](LabContext& context, const nslab::v1::Action& action) -> absl::StatusOr<Applied> {
            std::vector<std::vector<std::string>> groups;
            for (const auto& group : action.partition().groups()) {
              groups.emplace_back(group.nodes().begin(), group.nodes().end());
            }
            const bool reject = action.partition().mode() == nslab::v1::PARTITION_MODE_REJECT;
            auto nodes = context.chaos->Partition(context.lab, groups, reject);
            if (!nodes.ok()) {
              return nodes.status();
            }
            chaos::ChaosEngine* chaos = context.chaos;
            const std::string lab = context.lab;
            return Applied{absl::StrCat("rules in ", absl::StrJoin(*nodes, ", ")),
                           [chaos, lab]() { return chaos->Heal(lab).status(); }};
          }};
}

ActionHandler HealHandler() {
  return {[](const nslab::v1::Topology&, const nslab::v1::Action&) { return absl::OkStatus(); },
          [](LabContext& context, const nslab::v1::Action&) -> absl::StatusOr<Applied> {
            auto nodes = context.chaos->Heal(context.lab);
            if (!nodes.ok()) {
              return nodes.status();
            }
            return Applied{nodes->empty() ? "nothing to heal"
                                          : absl::StrCat("healed ", absl::StrJoin(*nodes, ", ")),
                           nullptr};
          }};
}

}  // namespace nslab::scenario
