#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nslab/v1/labs.pb.h"

namespace nslab::lab {

// What a node looks like right now in the kernel: its interfaces, addresses and state,
// with each link end's peer taken from the topology.
absl::StatusOr<nslab::v1::NodeStatus> ReadNodeStatus(const nslab::v1::Topology& topology,
                                                     const std::string& lab,
                                                     const nslab::v1::Node& node);

}  // namespace nslab::lab
