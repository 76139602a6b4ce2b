#pragma once

#include <optional>

#include "daemon/topology/field_error.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// Checks a topology whole, before anything is built: names, references between nodes and
// links, addresses, routes, rules, sysctls. Returns the first problem found.
// An empty lab name is accepted here (the caller may supply one).
std::optional<FieldError> ValidateTopology(const nslab::v1::Topology& topology);

}  // namespace nslab::topology
