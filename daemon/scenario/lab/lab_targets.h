#pragma once

// Checks of a scenario's names against a lab's topology, so a scenario that names a missing
// node, link or process is refused before any of its steps runs. Every error is
// FAILED_PRECONDITION and lists what the lab does have.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::scenario {

absl::Status RequireNode(const nslab::v1::Topology& topology, const std::string& node);
// "node:interface" of either end, or a link's name.
absl::Status RequireLink(const nslab::v1::Topology& topology, const std::string& link);
// The index of that link in the topology's links.
absl::StatusOr<int> LinkIndex(const nslab::v1::Topology& topology, const std::string& link);
absl::Status RequireUstackNode(const nslab::v1::Topology& topology, const std::string& node);
// `process` as ProcessAction.process selects it: argv[0] as written or its base name, "stack"
// for a ustack node's stack, empty for the node's only process.
absl::Status RequireProcess(const nslab::v1::Topology& topology, const std::string& node,
                            const std::string& process);

}  // namespace nslab::scenario
