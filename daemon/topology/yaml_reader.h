#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// Reads the text of a topology file into its proto form and validates it whole
// (ValidateTopology). Errors name the key path and its line: `links[2].a: node "srv" is
// not defined (line 14)`. Unknown keys are errors.
absl::StatusOr<nslab::v1::Topology> ReadTopologyYaml(absl::string_view text);

}  // namespace nslab::topology
