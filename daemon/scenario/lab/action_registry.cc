#include <map>

#include "daemon/scenario/lab/actions.h"

namespace nslab::scenario {

const ActionHandler* HandlerFor(const nslab::v1::Action& action) {
  using Kind = nslab::v1::Action::KindCase;
  static const auto* const handlers = new std::map<Kind, ActionHandler>{
      {Kind::kImpair, ImpairHandler()},
      {Kind::kClear, ClearHandler()},
      {Kind::kLinkDown, LinkDownHandler()},
      {Kind::kLinkUp, LinkUpHandler()},
      {Kind::kFlap, FlapHandler()},
      {Kind::kPartition, PartitionHandler()},
      {Kind::kHeal, HealHandler()},
      {Kind::kFirewall, FirewallHandler()},
      {Kind::kFlushFirewall, FlushFirewallHandler()},
      {Kind::kKill, KillHandler()},
      {Kind::kRestart, RestartHandler()},
      {Kind::kExec, ExecActionHandler()},
      {Kind::kUstackFault, UstackFaultHandler()},
      {Kind::kApply, ApplyHandler()},
  };
  const auto it = handlers->find(action.kind_case());
  return it == handlers->end() ? nullptr : &it->second;
}

}  // namespace nslab::scenario
