#pragma once

// The handler of each action kind (lab_context.h). One file per family of actions.

#include "daemon/scenario/lab/lab_context.h"

namespace nslab::scenario {

ActionHandler ImpairHandler();         // impair_action.cc
ActionHandler ClearHandler();          // impair_action.cc
ActionHandler LinkDownHandler();       // link_actions.cc
ActionHandler LinkUpHandler();         // link_actions.cc
ActionHandler FlapHandler();           // link_actions.cc
ActionHandler PartitionHandler();      // partition_actions.cc
ActionHandler HealHandler();           // partition_actions.cc
ActionHandler FirewallHandler();       // firewall_actions.cc
ActionHandler FlushFirewallHandler();  // firewall_actions.cc
ActionHandler KillHandler();           // process_actions.cc
ActionHandler RestartHandler();        // process_actions.cc
ActionHandler ExecActionHandler();     // exec_action.cc
ActionHandler UstackFaultHandler();    // ustack_fault_action.cc
ActionHandler ApplyHandler();          // apply_action.cc

// The handler of `action`'s kind; nullptr for an empty action.
const ActionHandler* HandlerFor(const nslab::v1::Action& action);

}  // namespace nslab::scenario
