#include "absl/strings/str_cat.h"
#include "daemon/chaos/chaos_engine.h"
#include "daemon/scenario/lab/actions.h"
#include "daemon/scenario/lab/lab_targets.h"

namespace nslab::scenario {
namespace {

// Replaces the node's own tables with `ruleset`; the undo restores the tables it had.
absl::StatusOr<Applied> Replace(LabContext& context, const std::string& node,
                                const std::string& ruleset) {
  auto before = context.chaos->GetUserRuleset(context.lab, node);
  if (!before.ok()) {
    return before.status();
  }
  auto after = context.chaos->SetFirewall(context.lab, node, ruleset);
  if (!after.ok()) {
    return after.status();
  }
  chaos::ChaosEngine* chaos = context.chaos;
  const std::string lab = context.lab;
  const std::string previous = *before;
  return Applied{
      absl::StrCat(ruleset.empty() ? "flushed " : "ruleset set on ", node, " (",
                   after->rules.size(), " rules in force)"),
      [chaos, lab, node, previous]() { return chaos->SetFirewall(lab, node, previous).status(); }};
}

}  // namespace

ActionHandler FirewallHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return RequireNode(topology, action.firewall().node());
          },
          [](LabContext& context, const nslab::v1::Action& action) {
            return Replace(context, action.firewall().node(), action.firewall().ruleset());
          }};
}

ActionHandler FlushFirewallHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return RequireNode(topology, action.flush_firewall().node());
          },
          [](LabContext& context, const nslab::v1::Action& action) {
            return Replace(context, action.flush_firewall().node(), "");
          }};
}

}  // namespace nslab::scenario
