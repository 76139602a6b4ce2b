#include "daemon/scenario/lab/lab_targets.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/chaos/chaos_engine.h"

namespace nslab::scenario {
namespace {

const nslab::v1::Node* FindNode(const nslab::v1::Topology& topology, const std::string& name) {
  for (const auto& node : topology.nodes()) {
    if (node.name() == name) {
      return &node;
    }
  }
  return nullptr;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

absl::Status RequireNode(const nslab::v1::Topology& topology, const std::string& node) {
  if (FindNode(topology, node) != nullptr) {
    return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (const auto& candidate : topology.nodes()) {
    names.push_back(candidate.name());
  }
  return absl::FailedPreconditionError(
      absl::StrCat("lab ", topology.name(), " has no node \"", node,
                   "\" (its nodes: ", absl::StrJoin(names, ", "), ")"));
}

absl::Status RequireLink(const nslab::v1::Topology& topology, const std::string& link) {
  return LinkIndex(topology, link).status();
}

absl::StatusOr<int> LinkIndex(const nslab::v1::Topology& topology, const std::string& link) {
  auto index = chaos::FindLink(topology, link);
  if (!index.ok()) {  // the scenario names what the lab lacks: a precondition, not a lookup
    return absl::FailedPreconditionError(index.status().message());
  }
  return index;
}

absl::Status RequireUstackNode(const nslab::v1::Topology& topology, const std::string& node) {
  if (auto status = RequireNode(topology, node); !status.ok()) {
    return status;
  }
  if (FindNode(topology, node)->kind() != nslab::v1::NODE_KIND_USTACK) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", node, " of lab ", topology.name(), " is not of kind ustack"));
  }
  return absl::OkStatus();
}

absl::Status RequireProcess(const nslab::v1::Topology& topology, const std::string& node,
                            const std::string& process) {
  if (auto status = RequireNode(topology, node); !status.ok()) {
    return status;
  }
  const nslab::v1::Node& found = *FindNode(topology, node);
  std::vector<std::string> names;
  int matches = 0;
  if (found.kind() == nslab::v1::NODE_KIND_USTACK) {
    names.push_back("stack");
    matches += process == "stack" ? 1 : 0;
  }
  for (const auto& run : found.run()) {
    if (run.argv().empty()) {
      continue;
    }
    names.push_back(run.argv(0));
    matches += (process == run.argv(0) || process == BaseName(run.argv(0))) ? 1 : 0;
  }
  if (process.empty()) {
    if (names.size() == 1) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "node ", node, " has ", names.size(), " processes; name one with process: (",
        names.empty() ? "it has none: add a run: entry" : absl::StrJoin(names, ", "), ")"));
  }
  if (matches == 1) {
    return absl::OkStatus();
  }
  if (matches > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", node, " has ", matches, " processes named \"", process,
                     "\"; name one by its argv[0] as written (", absl::StrJoin(names, ", "), ")"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "node ", node, " has no process \"", process,
      "\" (its processes: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
}

}  // namespace nslab::scenario
