#include "daemon/lab/lab_diff.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/lab/lab_fit.h"
#include "daemon/lab/lab_wires.h"
#include "daemon/lab/link_impairment.h"
#include "daemon/lab/plan.h"
#include "daemon/lab/ustack_node.h"

namespace nslab::lab {
namespace {

using google::protobuf::util::MessageDifferencer;
using nslab::v1::Link;
using nslab::v1::Node;
using nslab::v1::Topology;

// Messages of `from` with no equal in `in`, each equal one matched once (so two identical
// `run:` entries are two).
template <typename Message>
std::vector<Message> Missing(const google::protobuf::RepeatedPtrField<Message>& from,
                             const google::protobuf::RepeatedPtrField<Message>& in) {
  std::vector<bool> used(in.size(), false);
  std::vector<Message> missing;
  for (const Message& item : from) {
    bool found = false;
    for (int i = 0; i < in.size() && !found; ++i) {
      if (!used[i] && MessageDifferencer::Equals(item, in.Get(i))) {
        used[i] = true;
        found = true;
      }
    }
    if (!found) {
      missing.push_back(item);
    }
  }
  return missing;
}

std::string RouteText(const nslab::v1::Route& route) {
  return absl::StrCat("route ", route.to(), RouteDetails(route));
}

std::string RuleText(const nslab::v1::Rule& rule) {
  return absl::StrCat("rule", rule.from().empty() ? "" : " from ", rule.from(),
                      rule.to().empty() ? "" : " to ", rule.to(), " lookup ", rule.table());
}

std::string ProcessText(const nslab::v1::Process& process) {
  return absl::StrCat("run [", absl::StrJoin(process.argv(), " "), "]");
}

std::string EndText(const nslab::v1::Endpoint& end) {
  return absl::StrCat(end.node(), ":", end.interface());
}

std::string LinkKey(const Link& link) {
  return absl::StrCat(EndText(link.a()), " <-> ", EndText(link.b()));
}

// Why a node must be made again, or empty when it can change in place.
std::string ReplaceReason(const Node& before, const Node& after) {
  if (before.kind() != after.kind()) {
    return absl::StrCat("kind ", nslab::v1::NodeKind_Name(before.kind()), " -> ",
                        nslab::v1::NodeKind_Name(after.kind()));
  }
  if (after.kind() == nslab::v1::NODE_KIND_SWITCH &&
      !MessageDifferencer::Equals(before.bridge(), after.bridge())) {
    return "bridge settings changed";
  }
  return "";
}

// Why a link whose ends stay must be made again, or empty.
std::string LinkReplaceReason(const Link& before, const Link& after,
                              nslab::v1::LinkMode mode_before, nslab::v1::LinkMode mode_after) {
  if (before.mtu() != after.mtu()) {
    return absl::StrCat("mtu ", before.mtu(), " -> ", after.mtu());
  }
  if (before.a().mac() != after.a().mac() || before.b().mac() != after.b().mac()) {
    return "mac changed";
  }
  if (before.name() != after.name()) {
    return "name changed (it seeds the link's fates)";
  }
  if (mode_before != mode_after) {
    return absl::StrCat("mode ", nslab::v1::LinkMode_Name(mode_before), " -> ",
                        nslab::v1::LinkMode_Name(mode_after));
  }
  return "";
}

class Differ {
 public:
  Differ(const Topology& before, const LinkModes& before_modes, const Topology& after,
         const LinkModes& after_modes)
      : before_(before), before_modes_(before_modes), after_(after), after_modes_(after_modes) {}

  absl::StatusOr<TopologyDiff> Run() {
    if (UsesIpv6(before_) != UsesIpv6(after_)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the new topology ", UsesIpv6(after_) ? "uses" : "no longer uses",
          " IPv6, which every interface of the lab is set up for at build; rebuild the lab "
          "(nslab down, then nslab up) to change that"));
    }
    diff_.remove_node.assign(before_.nodes_size(), false);
    diff_.remove_link.assign(before_.links_size(), false);
    diff_.build.make_node.assign(after_.nodes_size(), false);
    diff_.build.finish_node.assign(after_.nodes_size(), false);
    diff_.build.make_link.assign(after_.links_size(), false);
    DiffNodes();
    DiffLinks();
    EditNodes();
    if (auto status = CheckLeafSwitches(); !status.ok()) {
      return status;
    }
    return std::move(diff_);
  }

 private:
  void Plan(ChangeKind kind, std::string object, std::string detail = "") {
    diff_.plan.push_back({kind, std::move(object), std::move(detail)});
  }

  void DiffNodes() {
    std::unordered_map<std::string, int> after_index;
    for (int i = 0; i < after_.nodes_size(); ++i) {
      after_index[after_.nodes(i).name()] = i;
    }
    for (int i = 0; i < before_.nodes_size(); ++i) {
      const Node& node = before_.nodes(i);
      auto it = after_index.find(node.name());
      if (it == after_index.end()) {
        diff_.remove_node[i] = true;
        Plan(ChangeKind::kRemove, "node " + node.name());
        continue;
      }
      const std::string reason = ReplaceReason(node, after_.nodes(it->second));
      if (!reason.empty()) {
        diff_.remove_node[i] = true;
        diff_.build.make_node[it->second] = true;
        diff_.build.finish_node[it->second] = true;
        remade_.insert(node.name());
        Plan(ChangeKind::kReplace, "node " + node.name(), reason);
      } else {
        kept_.insert(node.name());
      }
    }
    for (int i = 0; i < after_.nodes_size(); ++i) {
      const std::string& name = after_.nodes(i).name();
      if (kept_.count(name) == 0 && remade_.count(name) == 0) {
        diff_.build.make_node[i] = true;
        diff_.build.finish_node[i] = true;
        Plan(ChangeKind::kAdd, "node " + name);
      }
    }
  }

  bool Kept(const std::string& node) const { return kept_.count(node) != 0; }

  void DiffLinks() {
    std::unordered_map<std::string, int> before_index;
    for (int i = 0; i < before_.links_size(); ++i) {
      before_index[LinkKey(before_.links(i))] = i;
    }
    std::vector<bool> matched(before_.links_size(), false);
    for (int i = 0; i < after_.links_size(); ++i) {
      const Link& link = after_.links(i);
      const std::string key = LinkKey(link);
      auto it = before_index.find(key);
      if (it == before_index.end()) {
        MakeLink(i);
        Plan(ChangeKind::kAdd, "link " + key);
        continue;
      }
      const int old = it->second;
      matched[old] = true;
      const Link& before = before_.links(old);
      std::string reason;
      if (!Kept(link.a().node()) || !Kept(link.b().node())) {
        reason = "an end's node is made again";
      } else {
        reason = LinkReplaceReason(before, link, before_modes_.at(old), after_modes_.at(i));
      }
      LinkEdit edit = EditOf(before, link, old, i);
      if (!reason.empty()) {
        diff_.remove_link[old] = true;
        MakeLink(i);
        Plan(ChangeKind::kReplace, "link " + key, reason);
        continue;
      }
      diff_.kept_links[old] = i;
      PlanLinkEdit(key, link, edit);
    }
    for (int i = 0; i < before_.links_size(); ++i) {
      if (!matched[i]) {
        diff_.remove_link[i] = true;
        Plan(ChangeKind::kRemove, "link " + LinkKey(before_.links(i)));
      }
    }
  }

  void MakeLink(int index) {
    diff_.build.make_link[index] = true;
    const Link& link = after_.links(index);
    for (const auto* end : {&link.a(), &link.b()}) {
      if (Kept(end->node())) {
        touched_ports_.insert(end->node());
        diff_.remade_ends.emplace_back(end->node(), end->interface());
      }
    }
  }

  bool IsUstack(const Topology& topology, const std::string& node) const {
    for (const auto& n : topology.nodes()) {
      if (n.name() == node) {
        return n.kind() == nslab::v1::NODE_KIND_USTACK;
      }
    }
    return false;
  }

  LinkEdit EditOf(const Link& before, const Link& after, int old, int now) {
    LinkEdit edit;
    edit.before = old;
    edit.after = now;
    for (int side = 0; side < 2; ++side) {
      const auto& b = side == 0 ? before.a() : before.b();
      const auto& a = side == 0 ? after.a() : after.b();
      if (IsUstack(after_, a.node())) {
        continue;
      }
      for (const auto& address : b.addresses()) {
        if (std::find(a.addresses().begin(), a.addresses().end(), address) == a.addresses().end()) {
          edit.addresses_removed[side].push_back(address);
        }
      }
      for (const auto& address : a.addresses()) {
        if (std::find(b.addresses().begin(), b.addresses().end(), address) == b.addresses().end()) {
          edit.addresses_added[side].push_back(address);
        }
      }
    }
    const auto impairments_before = RequestedImpairments(before);
    const auto impairments_after = RequestedImpairments(after);
    const auto flows_before = RequestedFlows(before);
    const auto flows_after = RequestedFlows(after);
    const bool reseeded = before_.seed() != after_.seed();
    for (int d = 0; d < 2; ++d) {
      edit.impairment_changed[d] =
          !MessageDifferencer::Equals(impairments_before[d], impairments_after[d]) ||
          (reseeded && impairments_after[d].ByteSizeLong() != 0);
      bool same_flows = flows_before[d].size() == flows_after[d].size() && !reseeded;
      for (size_t f = 0; same_flows && f < flows_after[d].size(); ++f) {
        same_flows = MessageDifferencer::Equals(flows_before[d][f], flows_after[d][f]);
      }
      edit.flows_changed[d] = !same_flows && (!flows_before[d].empty() || !flows_after[d].empty());
    }
    return edit;
  }

  void PlanLinkEdit(const std::string& key, const Link& link, const LinkEdit& edit) {
    bool changed = false;
    for (int side = 0; side < 2; ++side) {
      const std::string end = EndText(side == 0 ? link.a() : link.b());
      for (const auto& address : edit.addresses_removed[side]) {
        Plan(ChangeKind::kChange, "link " + key,
             absl::StrCat("address ", address, " removed from ", end));
      }
      for (const auto& address : edit.addresses_added[side]) {
        Plan(ChangeKind::kChange, "link " + key,
             absl::StrCat("address ", address, " added to ", end));
      }
      changed =
          changed || !edit.addresses_removed[side].empty() || !edit.addresses_added[side].empty();
    }
    static constexpr const char* kDirections[] = {"a->b", "b->a"};
    for (int d = 0; d < 2; ++d) {
      if (edit.impairment_changed[d]) {
        Plan(ChangeKind::kChange, "link " + key, absl::StrCat("impairment ", kDirections[d]));
        changed = true;
      }
      if (edit.flows_changed[d]) {
        Plan(ChangeKind::kChange, "link " + key, absl::StrCat("flows ", kDirections[d]));
        changed = true;
      }
    }
    if (changed) {
      diff_.link_edits.push_back(edit);
    }
  }

  void EditNodes() {
    std::unordered_map<std::string, const Node*> before_nodes;
    for (const Node& node : before_.nodes()) {
      before_nodes[node.name()] = &node;
    }
    for (const Node& after : after_.nodes()) {
      if (!Kept(after.name())) {
        continue;
      }
      const Node& before = *before_nodes.at(after.name());
      NodeEdit edit;
      edit.name = after.name();
      const std::string object = "node " + after.name();
      auto change = [&](std::string detail) {
        Plan(ChangeKind::kChange, object, std::move(detail));
      };
      if (after.kind() == nslab::v1::NODE_KIND_USTACK) {
        // Its routes, addresses, services and faults are its stack's options.
        edit.stack_restarted =
            UstackArgv("", before_, before, "") != UstackArgv("", after_, after, "");
        if (edit.stack_restarted) {
          change("stack restarted with its new options");
        }
      } else {
        edit.routes_removed = Missing(before.routes(), after.routes());
        edit.routes_added = Missing(after.routes(), before.routes());
        edit.rules_removed = Missing(before.rules(), after.rules());
        edit.rules_added = Missing(after.rules(), before.rules());
      }
      for (const auto& route : edit.routes_removed) {
        change(RouteText(route) + " removed");
      }
      for (const auto& route : edit.routes_added) {
        change(RouteText(route) + " added");
      }
      for (const auto& rule : edit.rules_removed) {
        change(RuleText(rule) + " removed");
      }
      for (const auto& rule : edit.rules_added) {
        change(RuleText(rule) + " added");
      }
      for (const auto& [key, value] : after.sysctls()) {
        auto it = before.sysctls().find(key);
        if (it == before.sysctls().end() || it->second != value) {
          edit.sysctls_set[key] = value;
          change(absl::StrCat("sysctl ", key, " = ", value));
        }
      }
      for (const auto& [key, value] : before.sysctls()) {
        if (after.sysctls().count(key) == 0) {
          change(absl::StrCat("sysctl ", key, " no longer set (it keeps its value ", value, ")"));
        }
      }
      edit.ruleset_changed = before.nftables() != after.nftables();
      if (edit.ruleset_changed) {
        change(after.nftables().empty() ? "nftables ruleset flushed" : "nftables ruleset reloaded");
      }
      edit.runs_stopped = Missing(before.run(), after.run());
      edit.runs_started = Missing(after.run(), before.run());
      for (const auto& process : edit.runs_stopped) {
        change(ProcessText(process) + " stopped");
      }
      for (const auto& process : edit.runs_started) {
        change(ProcessText(process) + " started");
      }
      const bool changed =
          edit.stack_restarted || !edit.routes_removed.empty() || !edit.routes_added.empty() ||
          !edit.rules_removed.empty() || !edit.rules_added.empty() || !edit.sysctls_set.empty() ||
          edit.ruleset_changed || !edit.runs_stopped.empty() || !edit.runs_started.empty();
      if (changed) {
        diff_.node_edits.push_back(std::move(edit));
      }
    }
  }

  // Count ports per switch in a topology.
  static std::unordered_map<std::string, uint64_t> SwitchPorts(const Topology& topology) {
    std::unordered_map<std::string, bool> is_switch;
    for (const Node& node : topology.nodes()) {
      is_switch[node.name()] = node.kind() == nslab::v1::NODE_KIND_SWITCH;
    }
    std::unordered_map<std::string, uint64_t> ports;
    for (const Link& link : topology.links()) {
      for (const auto* end : {&link.a(), &link.b()}) {
        if (is_switch[end->node()]) {
          ++ports[end->node()];
        }
      }
    }
    return ports;
  }

  absl::Status CheckLeafSwitches() {
    // A switch that stays and loses ports is touched as well.
    for (int i = 0; i < before_.links_size(); ++i) {
      if (diff_.remove_link[i]) {
        for (const auto* end : {&before_.links(i).a(), &before_.links(i).b()}) {
          if (Kept(end->node())) {
            touched_ports_.insert(end->node());
          }
        }
      }
    }
    const auto before_ports = SwitchPorts(before_);
    const auto after_ports = SwitchPorts(after_);
    for (const std::string& node : touched_ports_) {
      auto b = before_ports.find(node);
      auto a = after_ports.find(node);
      const uint64_t most =
          std::max(b == before_ports.end() ? 0 : b->second, a == after_ports.end() ? 0 : a->second);
      if (most > kBridgeMaxPorts) {
        return absl::FailedPreconditionError(absl::StrCat(
            "nodes.", node, ": a switch of more than ", kBridgeMaxPorts,
            " ports holds them on leaf bridges, which an apply does not rearrange; rebuild the "
            "lab (nslab down, then nslab up) to change its ports"));
      }
    }
    return absl::OkStatus();
  }

  const Topology& before_;
  const LinkModes& before_modes_;
  const Topology& after_;
  const LinkModes& after_modes_;
  TopologyDiff diff_;
  std::set<std::string> kept_;    // nodes that stay as they are (edited in place)
  std::set<std::string> remade_;  // nodes made again
  std::set<std::string> touched_ports_;
};

}  // namespace

absl::StatusOr<TopologyDiff> DiffTopologies(const Topology& before, const LinkModes& before_modes,
                                            const Topology& after, const LinkModes& after_modes) {
  return Differ(before, before_modes, after, after_modes).Run();
}

std::string PlanLine(const PlannedChange& change) {
  switch (change.kind) {
    case ChangeKind::kAdd:
      return "+ " + change.object;
    case ChangeKind::kRemove:
      return "- " + change.object;
    case ChangeKind::kReplace:
      return absl::StrCat("! ", change.object, ": made again (", change.detail, ")");
    case ChangeKind::kChange:
      break;
  }
  return absl::StrCat("~ ", change.object, ": ", change.detail);
}

}  // namespace nslab::lab
