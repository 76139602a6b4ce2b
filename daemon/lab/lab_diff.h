#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/lab/builder.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// What an apply does to one object, as `nslab apply --dry-run` prints it.
enum class ChangeKind { kAdd, kRemove, kChange, kReplace };

struct PlannedChange {
  ChangeKind kind = ChangeKind::kChange;
  std::string object;  // "node r1", "link h1:eth0 <-> s1:p1"
  std::string detail;  // what changes, for kChange and kReplace (why it is made again)
};

// A node that stays, with what changes inside it.
struct NodeEdit {
  std::string name;
  std::vector<nslab::v1::Route> routes_removed;
  std::vector<nslab::v1::Route> routes_added;
  std::vector<nslab::v1::Rule> rules_removed;
  std::vector<nslab::v1::Rule> rules_added;
  std::map<std::string, std::string> sysctls_set;  // new or changed values
  bool ruleset_changed = false;
  std::vector<nslab::v1::Process> runs_stopped;  // the old definitions
  std::vector<nslab::v1::Process> runs_started;  // the new ones
  bool stack_restarted = false;                  // a ustack node whose stack's options changed
};

// A link that stays (its two ends, interfaces, MTU, MACs and mode are the same), with what
// changes on it.
struct LinkEdit {
  int before = 0;  // its index in the running lab
  int after = 0;   // its index in the new topology
  // Per end (a, b): addresses to remove and to add. Not for a ustack end: its addresses are
  // its stack's options.
  std::array<std::vector<std::string>, 2> addresses_removed;
  std::array<std::vector<std::string>, 2> addresses_added;
  // Per direction (a->b, b->a): whether the file's impairment, or its flows, changed.
  std::array<bool, 2> impairment_changed{};
  std::array<bool, 2> flows_changed{};
};

// What turns a running lab's topology into a new one, changing only what differs. Nodes and
// links are matched by name (a link by its ends: node and interface on both sides); a node is
// made again when its kind or bridge changes, a link when an end's node is made again or its
// MTU, MACs, name or mode change.
struct TopologyDiff {
  std::vector<PlannedChange> plan;
  // Old indexes: what goes (nodes and links removed or made again).
  std::vector<bool> remove_node;
  std::vector<bool> remove_link;
  // New indexes: what is built (added or made again); nodes finished are those made.
  BuildScope build;
  std::vector<NodeEdit> node_edits;
  std::vector<LinkEdit> link_edits;
  // Old link index -> new, for every link that stays.
  std::map<int, int> kept_links;
  // Ends (node, interface) of links made again whose node stays: the kernel dropped their
  // routes with the old device, so they are put back once the new one is up.
  std::vector<std::pair<std::string, std::string>> remade_ends;

  bool empty() const { return plan.empty(); }
};

// The changes from `before` (running, with `before_modes`) to `after` (prepared: validated,
// auto routes added; with `after_modes`). FAILED_PRECONDITION, saying to rebuild, for what an
// apply cannot change in place: the lab turning to or from IPv6, or ports added to or removed
// from a switch with leaf bridges.
absl::StatusOr<TopologyDiff> DiffTopologies(const nslab::v1::Topology& before,
                                            const LinkModes& before_modes,
                                            const nslab::v1::Topology& after,
                                            const LinkModes& after_modes);

// "+ node h3", "- link h1:eth0 <-> s1:p1", "~ node r1: route 10.2.0.0/24 via 10.0.0.2 added",
// "! node s1: made again (kind host -> router)".
std::string PlanLine(const PlannedChange& change);

}  // namespace nslab::lab
