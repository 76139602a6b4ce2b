// LabRegistry::Apply: changes a running lab to a new topology, touching only what differs,
// and puts it back as it was when a step fails.
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/common/file_text.h"
#include "daemon/common/log.h"
#include "daemon/common/status_macros.h"
#include "daemon/exec/netns_processes.h"
#include "daemon/lab/announce.h"
#include "daemon/lab/builder.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/lab/link_impairment.h"
#include "daemon/lab/link_mode.h"
#include "daemon/lab/node_routes.h"
#include "daemon/lab/run_process.h"
#include "daemon/lab/teardown.h"
#include "daemon/netlink/addresses.h"
#include "daemon/netlink/links.h"
#include "daemon/netlink/routes.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"
#include "daemon/topology/names.h"

namespace nslab::lab {
namespace {

using nslab::v1::Lab;
using nslab::v1::Node;
using nslab::v1::Topology;

// Steps done so far, each with what undoes it; Unwind undoes them newest first.
class UndoLog {
 public:
  void Add(std::string what, std::function<absl::Status()> undo) {
    steps_.emplace_back(std::move(what), std::move(undo));
  }
  // What could not be undone, as "<step>: <error>".
  std::vector<std::string> Unwind() {
    std::vector<std::string> failures;
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      if (auto status = it->second(); !status.ok()) {
        failures.push_back(absl::StrCat(it->first, ": ", status.message()));
      }
    }
    steps_.clear();
    return failures;
  }

 private:
  std::vector<std::pair<std::string, std::function<absl::Status()>>> steps_;
};

// Runs `work` with a netlink socket in the node's namespace.
absl::Status WithSocket(const std::string& ns,
                        const std::function<absl::Status(const netlink::RouteSocket&)>& work) {
  NSLAB_ASSIGN_OR_RETURN(auto fd, netns::Open(ns));
  NSLAB_ASSIGN_OR_RETURN(auto sock, netlink::RouteSocket::OpenIn(fd.get()));
  return work(sock);
}

const Node* NodeNamed(const Topology& topology, const std::string& name) {
  for (const Node& node : topology.nodes()) {
    if (node.name() == name) {
      return &node;
    }
  }
  return nullptr;
}

std::vector<netlink::RouteSpec> RouteSpecsOf(const std::vector<nslab::v1::Route>& routes) {
  Node node;
  node.set_kind(nslab::v1::NODE_KIND_HOST);
  for (const auto& route : routes) {
    *node.add_routes() = route;
  }
  return KernelRoutesOf(node);
}

netlink::RuleSpec RuleSpecOf(const nslab::v1::Rule& rule) {
  return {rule.from(), rule.to(), rule.fwmark(), rule.iif(), rule.priority(), rule.table()};
}

absl::Status LoadRuleset(const std::string& ns, const std::string& ruleset) {
  NSLAB_ASSIGN_OR_RETURN(auto fd, netns::Open(ns));
  return nft::RunCommands(fd.get(), absl::StrCat("flush ruleset\n", ruleset)).status();
}

absl::StatusOr<std::string> ReadSysctl(const std::string& ns, const std::string& key) {
  std::string value;
  NSLAB_RETURN_IF_ERROR(netns::RunIn(ns, [&]() -> absl::Status {
    std::string path = "/proc/sys/" + key;
    std::replace(path.begin() + 10, path.end(), '.', '/');
    NSLAB_ASSIGN_OR_RETURN(value, ReadTextFile(path));
    value = std::string(absl::StripAsciiWhitespace(value));
    return absl::OkStatus();
  }));
  return value;
}

absl::Status WriteSysctlIn(const std::string& ns, const std::string& key,
                           const std::string& value) {
  return netns::RunIn(ns, [&] { return netlink::WriteSysctl(key, value); });
}

LinkModes ModesOf(const Lab& lab) {
  LinkModes modes;
  for (const auto& link : lab.links()) {
    modes.push_back(link.mode());
  }
  return modes;
}

}  // namespace

// One apply: the running lab `before`, the prepared topology `after`, and what differs.
class LabApplier {
 public:
  LabApplier(LabRegistry* registry, Lab before, std::shared_ptr<LabWires> wires, Topology after,
             LinkModes after_modes, std::vector<std::string> after_reasons, TopologyDiff diff)
      : registry_(*registry),
        before_(std::move(before)),
        wires_(std::move(wires)),
        after_(std::move(after)),
        after_modes_(std::move(after_modes)),
        after_reasons_(std::move(after_reasons)),
        diff_(std::move(diff)),
        name_(before_.name()) {}

  // Carries out the diff; on failure puts the lab back and says where it stopped.
  absl::StatusOr<Lab> Run() {
    auto status = Steps();
    if (status.ok()) {
      Lab after = Record();
      status = registry_.store_.Save(after);
      if (status.ok()) {
        return after;
      }
      status = absl::Status(status.code(), absl::StrCat("recording the lab: ", status.message()));
    }
    const auto failures = undo_.Unwind();
    // Nodes made again by the rollback are new namespaces: recorded, so teardown takes them.
    (void)registry_.store_.Save(before_);
    std::string message = absl::StrCat("applying to lab ", name_, " failed at ", status.message());
    if (failures.empty()) {
      absl::StrAppend(&message, "; the lab was put back as it was before the apply");
    } else {
      absl::StrAppend(&message, "; putting the lab back failed at ", absl::StrJoin(failures, "; "),
                      " (nslab down removes what is left)");
    }
    return absl::Status(
        status.code() == absl::StatusCode::kOk ? absl::StatusCode::kInternal : status.code(),
        message);
  }

  // The lab as recorded before the apply, with the identities of namespaces a rollback made.
  const Lab& before() const { return before_; }

 private:
  const Topology& old_topology() const { return before_.topology(); }
  std::string Namespace(const std::string& node) const {
    return topology::NamespaceOf(name_, node);
  }

  absl::Status Steps() {
    NSLAB_RETURN_IF_ERROR(StopProcesses());
    NSLAB_RETURN_IF_ERROR(RemoveOldPart());
    NSLAB_RETURN_IF_ERROR(BuildNewPart());
    NSLAB_RETURN_IF_ERROR(EditLinks());
    NSLAB_RETURN_IF_ERROR(EditNodes());
    return StartProcesses();
  }

  // --- processes ---

  // The node's `run:` entries of `topology` that `which` picks, started; the stack first
  // when `stack`.
  absl::Status StartOn(const Topology& topology, const Node& node, bool stack,
                       const std::vector<nslab::v1::Process>& runs) {
    if (stack && node.kind() == nslab::v1::NODE_KIND_USTACK) {
      NSLAB_RETURN_IF_ERROR(registry_.StartStack(name_, topology, node));
    }
    for (const auto& process : runs) {
      if (auto status = registry_.supervisor_->Start(RunProcessSpec(name_, node, process));
          !status.ok()) {
        return absl::Status(status.code(), absl::StrCat("run.", node.name(), " [",
                                                        absl::StrJoin(process.argv(), " "),
                                                        "]: ", status.message()));
      }
    }
    return absl::OkStatus();
  }

  // Stops the processes of nodes that go, the stacks that restart and the `run:` entries
  // whose definition changed; the rest keep running.
  absl::Status StopProcesses() {
    std::set<std::string> gone;
    for (int i = 0; i < old_topology().nodes_size(); ++i) {
      if (diff_.remove_node[i]) {
        gone.insert(old_topology().nodes(i).name());
      }
    }
    std::map<std::string, std::vector<std::vector<std::string>>> runs;  // node -> argv
    std::set<std::string> stacks;
    for (const NodeEdit& edit : diff_.node_edits) {
      const Node& node = *NodeNamed(old_topology(), edit.name);
      for (const auto& process : edit.runs_stopped) {
        runs[edit.name].push_back(RunProcessSpec(name_, node, process).argv);
      }
      if (edit.stack_restarted) {
        stacks.insert(edit.name);
      }
      // Entries identical to a stopped one stop with it (StopWhere matches argv): those that
      // stay are started again with the new ones.
      std::map<std::string, std::pair<nslab::v1::Process, int>> stopped;  // bytes -> (p, n)
      for (const auto& process : edit.runs_stopped) {
        auto& entry = stopped[process.SerializeAsString()];
        entry.first = process;
        ++entry.second;
      }
      for (const auto& [bytes, entry] : stopped) {
        const auto total = std::count_if(node.run().begin(), node.run().end(), [&](const auto& p) {
          return p.SerializeAsString() == bytes;
        });
        for (auto twins = total - entry.second; twins > 0; --twins) {
          restarted_twins_[edit.name].push_back(entry.first);
        }
      }
    }
    if (gone.empty() && runs.empty() && stacks.empty()) {
      return absl::OkStatus();
    }
    registry_.supervisor_->StopWhere(name_, [&](const exec::ProcessSpec& spec) {
      if (gone.count(spec.node) != 0) {
        return true;
      }
      if (spec.name == "stack") {
        return stacks.count(spec.node) != 0;
      }
      auto it = runs.find(spec.node);
      return it != runs.end() &&
             std::find(it->second.begin(), it->second.end(), spec.argv) != it->second.end();
    });
    undo_.Add("starting the stopped processes again", [this, gone, stacks] {
      for (const Node& node : old_topology().nodes()) {
        if (gone.count(node.name()) != 0) {
          NSLAB_RETURN_IF_ERROR(
              StartOn(old_topology(), node, true, {node.run().begin(), node.run().end()}));
        }
      }
      for (const NodeEdit& edit : diff_.node_edits) {
        const Node& node = *NodeNamed(old_topology(), edit.name);
        std::vector<nslab::v1::Process> again = edit.runs_stopped;
        for (const auto& twin : restarted_twins_[edit.name]) {
          again.push_back(twin);
        }
        NSLAB_RETURN_IF_ERROR(StartOn(old_topology(), node, stacks.count(edit.name) != 0, again));
      }
      return absl::OkStatus();
    });
    return absl::OkStatus();
  }

  absl::Status StartProcesses() {
    std::set<std::string> started_nodes;
    for (int i = 0; i < after_.nodes_size(); ++i) {
      if (diff_.build.make_node[i]) {
        const Node& node = after_.nodes(i);
        started_nodes.insert(node.name());
        undo_.Add("stopping the new node's processes", [this, name = node.name()] {
          registry_.supervisor_->StopWhere(
              name_, [&](const exec::ProcessSpec& spec) { return spec.node == name; });
          return absl::OkStatus();
        });
        NSLAB_RETURN_IF_ERROR(StartOn(after_, node, true, {node.run().begin(), node.run().end()}));
      }
    }
    for (const NodeEdit& edit : diff_.node_edits) {
      const Node& node = *NodeNamed(after_, edit.name);
      std::vector<nslab::v1::Process> runs = edit.runs_started;
      for (const auto& twin : restarted_twins_[edit.name]) {
        runs.push_back(twin);
      }
      std::vector<std::vector<std::string>> argvs;
      for (const auto& process : runs) {
        argvs.push_back(RunProcessSpec(name_, node, process).argv);
      }
      undo_.Add(absl::StrCat("stopping what started on ", edit.name),
                [this, name = edit.name, argvs, stack = edit.stack_restarted] {
                  registry_.supervisor_->StopWhere(name_, [&](const exec::ProcessSpec& spec) {
                    if (spec.node != name) {
                      return false;
                    }
                    if (spec.name == "stack") {
                      return stack;
                    }
                    return std::find(argvs.begin(), argvs.end(), spec.argv) != argvs.end();
                  });
                  return absl::OkStatus();
                });
      NSLAB_RETURN_IF_ERROR(StartOn(after_, node, edit.stack_restarted, runs));
    }
    return absl::OkStatus();
  }

  // --- the part that goes ---

  // Removes the links and nodes that go (or are made again); undone by building them from
  // the old topology.
  absl::Status RemoveOldPart() {
    std::vector<std::string> namespaces;
    std::set<std::string> gone;
    for (int i = 0; i < old_topology().nodes_size(); ++i) {
      if (diff_.remove_node[i]) {
        gone.insert(old_topology().nodes(i).name());
        namespaces.push_back(Namespace(old_topology().nodes(i).name()));
      }
    }
    bool any_link = false;
    for (bool removed : diff_.remove_link) {
      any_link = any_link || removed;
    }
    if (namespaces.empty() && !any_link) {
      RenumberWires();
      return absl::OkStatus();
    }
    undo_.Add("building the removed part again", [this] { return RebuildOldPart(); });
    for (int i = 0; i < old_topology().links_size(); ++i) {
      if (!diff_.remove_link[i]) {
        continue;
      }
      if (before_.links(i).mode() == nslab::v1::LINK_MODE_WIRE) {
        wires_->Remove(i, wire::StopMode::kDeleteDevices);
        continue;
      }
      const auto& a = old_topology().links(i).a();
      const auto& b = old_topology().links(i).b();
      // Deleted from an end that stays, even when the other end's namespace goes: the kernel
      // frees a deleted namespace (and the veths in it) later, on its own workqueue, and until
      // then the peer would hold its name and ifindex in the node that stays.
      const auto* kept = gone.count(a.node()) == 0 ? &a : gone.count(b.node()) == 0 ? &b : nullptr;
      if (kept == nullptr) {
        continue;  // both ends go with their namespaces
      }
      NSLAB_RETURN_IF_ERROR(WithSocket(Namespace(kept->node()), [&](const auto& sock) {
        return netlink::DeleteLink(sock, kept->interface());
      }));
    }
    for (const std::string& node : gone) {
      ::unlink(registry_.UstackControlSocket(name_, node).c_str());
    }
    exec::KillProcessesIn(namespaces);
    NSLAB_RETURN_IF_ERROR(DeleteNamespaces(namespaces));
    RenumberWires();
    return absl::OkStatus();
  }

  // The wires that stay take their index in the new topology (the new part's take theirs).
  void RenumberWires() {
    wires_->Renumber(diff_.kept_links);
    undo_.Add("numbering the wires back", [this] {
      std::map<int, int> back;
      for (const auto& [old_index, new_index] : diff_.kept_links) {
        back[new_index] = old_index;
      }
      wires_->Renumber(back);
      return absl::OkStatus();
    });
  }

  // The first veth ifindex a part can use: above every ifindex in the namespaces it joins.
  absl::StatusOr<int> FirstFreeIfindex(const Topology& topology, const std::vector<bool>& links) {
    int highest = 0;
    std::set<std::string> seen;
    for (int i = 0; i < topology.links_size(); ++i) {
      if (!links[i]) {
        continue;
      }
      for (const auto* end : {&topology.links(i).a(), &topology.links(i).b()}) {
        const std::string ns = Namespace(end->node());
        if (!seen.insert(ns).second || !netns::Exists(ns)) {
          continue;
        }
        NSLAB_RETURN_IF_ERROR(WithSocket(ns, [&](const auto& sock) -> absl::Status {
          NSLAB_ASSIGN_OR_RETURN(auto listed, netlink::ListLinks(sock));
          for (const auto& link : listed) {
            highest = std::max(highest, link.ifindex);
          }
          return absl::OkStatus();
        }));
      }
    }
    return std::max(1000, highest + 1);
  }

  // The undo of RemoveOldPart: the old nodes and links again, with their routes, and the
  // routes of the nodes that stayed through the links made again.
  absl::Status RebuildOldPart() {
    BuildScope scope;
    scope.make_node.assign(old_topology().nodes_size(), false);
    scope.finish_node.assign(old_topology().nodes_size(), false);
    scope.make_link = diff_.remove_link;
    for (int i = 0; i < old_topology().nodes_size(); ++i) {
      const bool absent =
          diff_.remove_node[i] && !netns::Exists(Namespace(old_topology().nodes(i).name()));
      scope.make_node[i] = absent;
      scope.finish_node[i] = absent;
    }
    NSLAB_ASSIGN_OR_RETURN(scope.first_ifindex, FirstFreeIfindex(old_topology(), scope.make_link));
    auto record = [this](const std::vector<netns::Identity>& identities) {
      for (int i = 0; i < before_.nodes_size() && i < static_cast<int>(identities.size()); ++i) {
        if (identities[i].inode != 0) {
          *before_.mutable_nodes(i)->mutable_netns_identity() = ToProto(identities[i]);
        }
      }
      return registry_.store_.Save(before_);
    };
    NSLAB_RETURN_IF_ERROR(BuildLabPart(old_topology(), name_, registry_.features_, ModesOf(before_),
                                       wires_.get(), scope, record));
    for (int i = 0; i < old_topology().links_size(); ++i) {
      if (!diff_.remove_link[i]) {
        continue;
      }
      for (const auto* end : {&old_topology().links(i).a(), &old_topology().links(i).b()}) {
        int index = 0;
        while (old_topology().nodes(index).name() != end->node()) {
          ++index;  // a validated topology has every node its links name
        }
        if (scope.finish_node[index] ||
            old_topology().nodes(index).kind() == nslab::v1::NODE_KIND_USTACK) {
          continue;
        }
        NSLAB_RETURN_IF_ERROR(WithSocket(Namespace(end->node()), [&](const auto& sock) {
          return RestoreAfterLinkUp(sock, old_topology(), end->node(), end->interface());
        }));
      }
    }
    return absl::OkStatus();
  }

  // --- the part that comes ---

  absl::Status BuildNewPart() {
    bool any = false;
    for (bool made : diff_.build.make_node) {
      any = any || made;
    }
    for (bool made : diff_.build.make_link) {
      any = any || made;
    }
    if (!any) {
      return absl::OkStatus();
    }
    BuildScope scope = diff_.build;
    NSLAB_ASSIGN_OR_RETURN(scope.first_ifindex, FirstFreeIfindex(after_, scope.make_link));
    identities_.assign(after_.nodes_size(), {});
    auto record = [this](const std::vector<netns::Identity>& identities) {
      identities_ = identities;
      return absl::OkStatus();
    };
    NSLAB_RETURN_IF_ERROR(BuildLabPart(after_, name_, registry_.features_, after_modes_,
                                       wires_.get(), scope, record));
    undo_.Add("removing the new part", [this] { return RemoveNewPart(); });
    for (const auto& [node, interface] : diff_.remade_ends) {
      if (NodeNamed(after_, node)->kind() == nslab::v1::NODE_KIND_USTACK) {
        continue;
      }
      NSLAB_RETURN_IF_ERROR(WithSocket(Namespace(node), [&](const auto& sock) {
        return RestoreAfterLinkUp(sock, after_, node, interface);
      }));
    }
    // Ready means reachable: a neighbour may still map a new end's address to the MAC of the
    // node that had it before.
    for (int i = 0; i < after_.links_size(); ++i) {
      if (diff_.build.make_link[i]) {
        const auto& link = after_.links(i);
        NSLAB_RETURN_IF_ERROR(
            Announce(link.a(), {link.a().addresses().begin(), link.a().addresses().end()}));
        NSLAB_RETURN_IF_ERROR(
            Announce(link.b(), {link.b().addresses().begin(), link.b().addresses().end()}));
      }
    }
    return absl::OkStatus();
  }

  // Announces `addresses` of the end's interface (not a ustack's: its stack answers for them,
  // nor a switch port's, which has none).
  absl::Status Announce(const nslab::v1::Endpoint& end, const std::vector<std::string>& addresses) {
    if (addresses.empty() || NodeNamed(after_, end.node())->kind() == nslab::v1::NODE_KIND_USTACK) {
      return absl::OkStatus();
    }
    NSLAB_ASSIGN_OR_RETURN(auto fd, netns::Open(Namespace(end.node())));
    return AnnounceIpv4(fd.get(), end.interface(), addresses);
  }

  absl::Status RemoveNewPart() {
    std::vector<std::string> namespaces;
    for (int i = 0; i < after_.nodes_size(); ++i) {
      if (diff_.build.make_node[i]) {
        namespaces.push_back(Namespace(after_.nodes(i).name()));
      }
    }
    for (int i = 0; i < after_.links_size(); ++i) {
      if (!diff_.build.make_link[i]) {
        continue;
      }
      if (after_modes_[i] == nslab::v1::LINK_MODE_WIRE) {
        wires_->Remove(i, wire::StopMode::kDeleteDevices);
        continue;
      }
      // From an end that stays, as in RemoveOldPart.
      auto made = [&](const nslab::v1::Endpoint& end) {
        return std::find(namespaces.begin(), namespaces.end(), Namespace(end.node())) !=
               namespaces.end();
      };
      const auto& link = after_.links(i);
      const auto* kept = !made(link.a()) ? &link.a() : !made(link.b()) ? &link.b() : nullptr;
      if (kept != nullptr) {
        NSLAB_RETURN_IF_ERROR(WithSocket(Namespace(kept->node()), [&](const auto& sock) {
          return netlink::DeleteLink(sock, kept->interface());
        }));
      }
    }
    exec::KillProcessesIn(namespaces);
    return DeleteNamespaces(namespaces);
  }

  // --- what changes in place ---

  absl::Status EditLinks() {
    for (const LinkEdit& edit : diff_.link_edits) {
      const auto& link = after_.links(edit.after);
      for (int side = 0; side < 2; ++side) {
        const auto& end = side == 0 ? link.a() : link.b();
        const std::string ns = Namespace(end.node());
        for (const auto& address : edit.addresses_removed[side]) {
          NSLAB_RETURN_IF_ERROR(WithSocket(ns, [&](const auto& sock) {
            return netlink::DeleteAddress(sock, end.interface(), address);
          }));
          undo_.Add("address " + address, [ns, interface = end.interface(), address] {
            return WithSocket(ns, [&](const auto& sock) {
              return netlink::AddAddress(sock, interface, address);
            });
          });
        }
        for (const auto& address : edit.addresses_added[side]) {
          NSLAB_RETURN_IF_ERROR(WithSocket(ns, [&](const auto& sock) {
            return netlink::AddAddress(sock, end.interface(), address);
          }));
          undo_.Add("address " + address, [ns, interface = end.interface(), address] {
            return WithSocket(ns, [&](const auto& sock) {
              return netlink::DeleteAddress(sock, interface, address);
            });
          });
        }
        NSLAB_RETURN_IF_ERROR(Announce(end, edit.addresses_added[side]));
      }
      NSLAB_RETURN_IF_ERROR(EditImpairments(edit));
    }
    return absl::OkStatus();
  }

  absl::Status EditImpairments(const LinkEdit& edit) {
    const auto& link = after_.links(edit.after);
    const auto& status = before_.links(edit.before);
    const auto wanted = RequestedImpairments(link);
    const auto wanted_flows = RequestedFlows(link);
    const std::array<nslab::v1::Impairment, 2> in_force = {status.a_to_b(), status.b_to_a()};
    const std::array<std::vector<nslab::v1::FlowImpairmentState>, 2> flows_in_force = {
        std::vector<nslab::v1::FlowImpairmentState>(status.a_to_b_flows().begin(),
                                                    status.a_to_b_flows().end()),
        std::vector<nslab::v1::FlowImpairmentState>(status.b_to_a_flows().begin(),
                                                    status.b_to_a_flows().end())};
    auto wire = wires_->Find(edit.after);
    const auto old_ends =
        DirectionsOf(name_, old_topology().links(edit.before), old_topology().seed());
    const auto new_ends = DirectionsOf(name_, link, after_.seed());
    for (int d = 0; d < 2; ++d) {
      const auto direction = static_cast<impair::Direction>(d);
      if (!wire) {
        // A veth direction's impairment and flows are one qdisc tree: set together, keeping
        // what the file does not change (and what chaos set there).
        if (!edit.impairment_changed[d] && !edit.flows_changed[d]) {
          continue;
        }
        const auto& impairment = edit.impairment_changed[d] ? wanted[d] : in_force[d];
        const auto& flows = edit.flows_changed[d] ? wanted_flows[d] : flows_in_force[d];
        NSLAB_RETURN_IF_ERROR(
            ApplyLinkDirection(new_ends[d], impairment, KernelFlowsOf(flows), registry_.features_));
        undo_.Add("impairment of " + status.name(), [this, end = old_ends[d], old = in_force[d],
                                                     old_flows = flows_in_force[d]] {
          return ApplyLinkDirection(end, old, KernelFlowsOf(old_flows), registry_.features_);
        });
        continue;
      }
      if (edit.impairment_changed[d]) {
        NSLAB_RETURN_IF_ERROR(wire->SetImpairment(direction, wanted[d]));
        undo_.Add("impairment of " + status.name(), [wire, direction, old = in_force[d]] {
          return wire->SetImpairment(direction, old);
        });
      }
      if (edit.flows_changed[d]) {
        NSLAB_RETURN_IF_ERROR(wire->SetFlows(direction, FlowRulesOf(wanted_flows[d])));
        undo_.Add("flows of " + status.name(), [wire, direction, old = flows_in_force[d]] {
          return wire->SetFlows(direction, FlowRulesOf(old));
        });
      }
    }
    return absl::OkStatus();
  }

  absl::Status EditNodes() {
    for (const NodeEdit& edit : diff_.node_edits) {
      const std::string ns = Namespace(edit.name);
      const Node& old_node = *NodeNamed(old_topology(), edit.name);
      const Node& new_node = *NodeNamed(after_, edit.name);
      auto with = [ns](std::function<absl::Status(const netlink::RouteSocket&)> work) {
        return WithSocket(ns, work);
      };
      for (const auto& route : RouteSpecsOf(edit.routes_removed)) {
        NSLAB_RETURN_IF_ERROR(
            with([&](const auto& sock) { return netlink::DeleteRoute(sock, route); }));
        // The kernel refuses a route whose interface or gateway is not back yet; those come
        // back with their links (RebuildOldPart), so a refusal here is not a failure.
        undo_.Add("route " + route.to, [with, route] {
          (void)with([&](const auto& sock) { return netlink::ReplaceRoute(sock, route); });
          return absl::OkStatus();
        });
      }
      for (const auto& route : RouteSpecsOf(edit.routes_added)) {
        NSLAB_RETURN_IF_ERROR(
            with([&](const auto& sock) { return netlink::AddRoute(sock, route); }));
        undo_.Add("route " + route.to, [with, route] {
          return with([&](const auto& sock) { return netlink::DeleteRoute(sock, route); });
        });
      }
      for (const auto& rule : edit.rules_removed) {
        const auto spec = RuleSpecOf(rule);
        NSLAB_RETURN_IF_ERROR(
            with([&](const auto& sock) { return netlink::DeleteRule(sock, spec); }));
        undo_.Add("rule to table " + std::to_string(spec.table), [with, spec] {
          return with([&](const auto& sock) { return netlink::AddRule(sock, spec); });
        });
      }
      for (const auto& rule : edit.rules_added) {
        const auto spec = RuleSpecOf(rule);
        NSLAB_RETURN_IF_ERROR(with([&](const auto& sock) { return netlink::AddRule(sock, spec); }));
        undo_.Add("rule to table " + std::to_string(spec.table), [with, spec] {
          return with([&](const auto& sock) { return netlink::DeleteRule(sock, spec); });
        });
      }
      for (const auto& [key, value] : edit.sysctls_set) {
        auto at_key = [&](const absl::Status& status) {
          return absl::Status(
              status.code(), absl::StrCat("sysctls.", edit.name, ".", key, ": ", status.message()));
        };
        // The value it had, for the undo; a key this kernel lacks fails here, before any write.
        auto old = ReadSysctl(ns, key);
        if (!old.ok()) {
          return at_key(old.status());
        }
        if (auto status = WriteSysctlIn(ns, key, value); !status.ok()) {
          return at_key(status);
        }
        undo_.Add("sysctl " + key,
                  [ns, key = key, old = *old] { return WriteSysctlIn(ns, key, old); });
      }
      if (edit.ruleset_changed) {
        if (auto status = LoadRuleset(ns, new_node.nftables()); !status.ok()) {
          return absl::Status(status.code(),
                              absl::StrCat("nodes.", edit.name, ".nftables: ", status.message()));
        }
        undo_.Add("nftables ruleset of " + edit.name,
                  [ns, old = old_node.nftables()] { return LoadRuleset(ns, old); });
      }
    }
    return absl::OkStatus();
  }

  // --- the record ---

  Lab Record() const {
    Lab lab = before_;
    *lab.mutable_topology() = after_;
    lab.clear_nodes();
    for (int i = 0; i < after_.nodes_size(); ++i) {
      const Node& node = after_.nodes(i);
      auto* status = lab.add_nodes();
      if (!diff_.build.make_node[i]) {
        for (const auto& old : before_.nodes()) {
          if (old.name() == node.name()) {
            *status = old;
          }
        }
        continue;
      }
      status->set_name(node.name());
      status->set_kind(node.kind());
      status->set_netns(Namespace(node.name()));
      if (i < static_cast<int>(identities_.size())) {
        *status->mutable_netns_identity() = ToProto(identities_[i]);
      }
    }
    lab.clear_links();
    std::map<int, int> old_of;
    for (const auto& [old_index, new_index] : diff_.kept_links) {
      old_of[new_index] = old_index;
    }
    for (int i = 0; i < after_.links_size(); ++i) {
      const auto& link = after_.links(i);
      auto* status = lab.add_links();
      const auto impairments = RequestedImpairments(link);
      const auto flows = RequestedFlows(link);
      auto kept = old_of.find(i);
      if (kept != old_of.end()) {
        *status = before_.links(kept->second);
        for (const LinkEdit& edit : diff_.link_edits) {
          if (edit.after != i) {
            continue;
          }
          if (edit.impairment_changed[0]) *status->mutable_a_to_b() = impairments[0];
          if (edit.impairment_changed[1]) *status->mutable_b_to_a() = impairments[1];
          if (edit.flows_changed[0]) {
            status->mutable_a_to_b_flows()->Assign(flows[0].begin(), flows[0].end());
          }
          if (edit.flows_changed[1]) {
            status->mutable_b_to_a_flows()->Assign(flows[1].begin(), flows[1].end());
          }
        }
        continue;
      }
      status->set_name(LinkLabel(link));
      status->set_mode(after_modes_[i]);
      status->set_mode_reason(after_reasons_[i]);
      *status->mutable_a_to_b() = impairments[0];
      *status->mutable_b_to_a() = impairments[1];
      status->mutable_a_to_b_flows()->Assign(flows[0].begin(), flows[0].end());
      status->mutable_b_to_a_flows()->Assign(flows[1].begin(), flows[1].end());
    }
    return lab;
  }

  LabRegistry& registry_;
  Lab before_;
  std::shared_ptr<LabWires> wires_;
  const Topology after_;
  const LinkModes after_modes_;
  const std::vector<std::string> after_reasons_;
  const TopologyDiff diff_;
  const std::string name_;
  UndoLog undo_;
  std::vector<netns::Identity> identities_;  // of the new part's namespaces, by node index
  // Per node: `run:` entries stopped only because an identical one changed.
  std::map<std::string, std::vector<nslab::v1::Process>> restarted_twins_;
};

absl::StatusOr<LabRegistry::Applied> LabRegistry::Apply(const std::string& name, Topology requested,
                                                        bool dry_run, View view) {
  const absl::Time started = absl::Now();
  // One change at a time: no impairment change, and no other apply, while this one runs.
  absl::MutexLock serial(&impair_mutex_);
  Lab before;
  std::shared_ptr<LabWires> wires;
  {
    absl::ReaderMutexLock lock(&mutex_);
    NSLAB_ASSIGN_OR_RETURN(before, FindReady(name));
    if (auto it = wires_.find(name); it != wires_.end()) {
      wires = it->second;
    }
  }
  if (!wires) {
    wires = std::make_shared<LabWires>(wire_runtime_.get());
  }
  NSLAB_ASSIGN_OR_RETURN(Topology after, Prepare(std::move(requested), name));
  LinkModes after_modes;
  std::vector<std::string> reasons;
  for (const auto& link : after.links()) {
    const LinkModeChoice choice = ChooseLinkMode(link, features_);
    after_modes.push_back(choice.mode);
    reasons.push_back(choice.reason);
  }
  NSLAB_ASSIGN_OR_RETURN(TopologyDiff diff,
                         DiffTopologies(before.topology(), ModesOf(before), after, after_modes));
  Applied applied;
  applied.changes = diff.plan;
  if (dry_run) {
    return applied;
  }
  if (diff.empty()) {
    NSLAB_ASSIGN_OR_RETURN(applied.lab, Get(name, view));
    return applied;
  }
  // Refused before anything changes: a new node's namespace someone else holds.
  for (int i = 0; i < after.nodes_size(); ++i) {
    const std::string ns = topology::NamespaceOf(name, after.nodes(i).name());
    bool replaced = false;
    for (const auto& change : diff.plan) {
      replaced = replaced || (change.kind == ChangeKind::kReplace &&
                              change.object == "node " + after.nodes(i).name());
    }
    if (diff.build.make_node[i] && !replaced && netns::Exists(ns)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "namespace ", ns, " already exists and was not made by this lab; rename node ",
          after.nodes(i).name()));
    }
  }
  const absl::Time planned = absl::Now();
  link_watches_.Stop(name);
  LabApplier applier(this, before, wires, std::move(after), std::move(after_modes),
                     std::move(reasons), std::move(diff));
  auto result = applier.Run();
  {
    absl::MutexLock lock(&mutex_);
    labs_[name] = result.ok() ? *result : applier.before();
    wires_[name] = wires;
  }
  const absl::Time changed = absl::Now();
  link_watches_.Start(result.ok() ? *result : applier.before());
  NSLAB_LOG(Debug) << "lab " << name << ": apply planned in " << (planned - started)
                   << ", changed (and recorded) in " << (changed - planned) << ", link watches in "
                   << (absl::Now() - changed);
  if (!result.ok()) {
    return result.status();
  }
  for (const auto& change : applied.changes) {
    Announce(name, nslab::v1::LAB_EVENT_KIND_LAB_CHANGED, PlanLine(change));
  }
  Announce(name, nslab::v1::LAB_EVENT_KIND_LAB_READY,
           absl::StrCat("lab ", name, " is ready after ", applied.changes.size(), " changes"));
  NSLAB_ASSIGN_OR_RETURN(applied.lab, Get(name, view));
  return applied;
}

}  // namespace nslab::lab
