#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/chaos/chaos_engine.h"
#include "daemon/scenario/lab/actions.h"
#include "daemon/scenario/lab/lab_targets.h"

namespace nslab::scenario {
namespace {

absl::StatusOr<Applied> SetState(LabContext& context, const nslab::v1::LinkStateAction& action,
                                 bool up) {
  const chaos::End end = chaos::EndOf(action.end());
  auto changed = context.chaos->SetLinkState(context.lab, action.link(), up, end);
  if (!changed.ok()) {
    return changed.status();
  }
  chaos::ChaosEngine* chaos = context.chaos;
  const std::string lab = context.lab;
  const std::string link = action.link();
  return Applied{
      absl::StrCat(up ? "up: " : "down: ", absl::StrJoin(*changed, ", ")),
      [chaos, lab, link, end, up]() { return chaos->SetLinkState(lab, link, !up, end).status(); }};
}

absl::Status CheckLink(const nslab::v1::Topology& topology, const std::string& link) {
  return RequireLink(topology, link);
}

}  // namespace

ActionHandler LinkDownHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return CheckLink(topology, action.link_down().link());
          },
          [](LabContext& context, const nslab::v1::Action& action) {
            return SetState(context, action.link_down(), false);
          }};
}

ActionHandler LinkUpHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return CheckLink(topology, action.link_up().link());
          },
          [](LabContext& context, const nslab::v1::Action& action) {
            return SetState(context, action.link_up(), true);
          }};
}

ActionHandler FlapHandler() {
  return {
      [](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
        return CheckLink(topology, action.flap().link());
      },
      [](LabContext& context, const nslab::v1::Action& action) -> absl::StatusOr<Applied> {
        const auto& flap = action.flap();
        auto changed = context.chaos->StartFlap(
            context.lab, flap.link(), chaos::EndOf(flap.end()), absl::Milliseconds(flap.down_ms()),
            absl::Milliseconds(flap.up_ms()), static_cast<int>(flap.count()));
        if (!changed.ok()) {
          return changed.status();
        }
        return Applied{
            absl::StrCat("flapping ", flap.count(), "x: ", absl::StrJoin(*changed, ", ")), nullptr};
      }};
}

}  // namespace nslab::scenario
