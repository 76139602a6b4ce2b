#include <array>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/chaos/chaos_engine.h"
#include "daemon/impair/flow_match.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/scenario/lab/actions.h"
#include "daemon/scenario/lab/lab_targets.h"

namespace nslab::scenario {
namespace {

std::vector<int> DirectionsOf(nslab::v1::Direction direction) {
  switch (direction) {
    case nslab::v1::DIRECTION_A_TO_B:
      return {0};
    case nslab::v1::DIRECTION_B_TO_A:
      return {1};
    default:
      return {0, 1};
  }
}

// The link's state in the running lab: its impairments and flows in force now.
absl::StatusOr<nslab::v1::LinkStatus> LinkStatusOf(LabContext& context, const std::string& link) {
  auto index = LinkIndex(context.topology, link);
  if (!index.ok()) {
    return index.status();
  }
  auto links = context.labs->Links(context.lab);
  if (!links.ok()) {
    return links.status();
  }
  if (*index >= static_cast<int>(links->size())) {
    return absl::InternalError(absl::StrCat("lab ", context.lab, " lists no link ", *index));
  }
  return (*links)[*index];
}

// Sets `impairment` on the link's directions; the undo puts back what each had before (the
// topology's, or an earlier step's), not merely nothing.
absl::StatusOr<Applied> SetImpairment(LabContext& context, const std::string& link,
                                      nslab::v1::Direction direction,
                                      const nslab::v1::Impairment& impairment) {
  auto status = LinkStatusOf(context, link);
  if (!status.ok()) {
    return status.status();
  }
  const std::array<nslab::v1::Impairment, 2> before = {status->a_to_b(), status->b_to_a()};
  const std::vector<int> directions = DirectionsOf(direction);
  auto set = context.chaos->SetImpairment(context.lab, link, directions, impairment);
  if (!set.ok()) {
    return set.status();
  }
  chaos::ChaosEngine* chaos = context.chaos;
  const std::string lab = context.lab;
  return Applied{absl::StrCat(impairment.ByteSizeLong() == 0 ? "cleared " : "impaired ", link),
                 [chaos, lab, link, directions, before]() -> absl::Status {
                   for (const int d : directions) {
                     if (auto restored = chaos->SetImpairment(lab, link, {d}, before[d]);
                         !restored.ok()) {
                       return restored.status();
                     }
                   }
                   return absl::OkStatus();
                 }};
}

// Sets (`impairment` given) or removes (nullopt) one flow of the link's directions; the undo
// puts back each direction's flow as it was, or removes it where there was none.
absl::StatusOr<Applied> SetFlow(LabContext& context, const std::string& link,
                                nslab::v1::Direction direction, const nslab::v1::FlowMatch& match,
                                const std::optional<nslab::v1::Impairment>& impairment) {
  auto status = LinkStatusOf(context, link);
  if (!status.ok()) {
    return status.status();
  }
  const uint64_t key = impair::FlowMatchKey(match);
  std::array<std::optional<nslab::v1::Impairment>, 2> before;
  for (int d = 0; d < 2; ++d) {
    for (const auto& flow : d == 0 ? status->a_to_b_flows() : status->b_to_a_flows()) {
      if (impair::FlowMatchKey(flow.match()) == key) {
        before[d] = flow.impairment();
      }
    }
  }
  const std::vector<int> directions = DirectionsOf(direction);
  auto set = context.chaos->SetFlowImpairment(context.lab, link, directions, match, impairment);
  if (!set.ok()) {
    return set.status();
  }
  chaos::ChaosEngine* chaos = context.chaos;
  const std::string lab = context.lab;
  return Applied{
      absl::StrCat(impairment ? "impaired " : "cleared ", link, " ", impair::FlowMatchText(match)),
      [chaos, lab, link, directions, match, before]() -> absl::Status {
        for (const int d : directions) {
          if (auto restored = chaos->SetFlowImpairment(lab, link, {d}, match, before[d]);
              !restored.ok()) {
            return restored.status();
          }
        }
        return absl::OkStatus();
      }};
}

}  // namespace

ActionHandler ImpairHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return RequireLink(topology, action.impair().link());
          },
          [](LabContext& context, const nslab::v1::Action& action) {
            const auto& impair = action.impair();
            if (impair.has_match()) {
              return SetFlow(context, impair.link(), impair.direction(), impair.match(),
                             impair.impairment());
            }
            return SetImpairment(context, impair.link(), impair.direction(), impair.impairment());
          }};
}

ActionHandler ClearHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return RequireLink(topology, action.clear().link());
          },
          [](LabContext& context, const nslab::v1::Action& action) {
            const auto& clear = action.clear();
            if (clear.has_match()) {
              return SetFlow(context, clear.link(), clear.direction(), clear.match(), std::nullopt);
            }
            return SetImpairment(context, clear.link(), clear.direction(), {});
          }};
}

}  // namespace nslab::scenario
