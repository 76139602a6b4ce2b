#pragma once

#include <string>

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "nslab/v1/topology.pb.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace nslab::topology {

// Reads the text of a topology file into its proto form and validates it whole
// (ValidateTopology). Errors name the key path and its line: `links[2].a: node "srv" is
// not defined (line 14)`. Unknown keys are errors.
absl::StatusOr<nslab::v1::Topology> ReadTopologyYaml(absl::string_view text);

// Reads one direction's impairment keys (delay, jitter, loss, rate, ...) exactly as a link's
// `impair:` map spells them, for other files that embed an impairment (scenario steps). The
// map must hold only those keys. Errors are INVALID_ARGUMENT naming `path` and the line:
// `steps[3].impair.loss: ... (line 9)`. Not validated beyond what reading needs
// (impair::ValidateImpairment does that). May throw YAML::Exception on malformed nodes.
absl::StatusOr<nslab::v1::Impairment> ReadImpairmentYaml(const YAML::Node& node,
                                                         const std::string& path);

}  // namespace nslab::topology
