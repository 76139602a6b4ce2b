#pragma once

#include <string>

#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// The topology as a picture: nodes shaped by kind, links labelled with interface names
// and addresses.
std::string ToDot(const nslab::v1::Topology& topology);
std::string ToMermaid(const nslab::v1::Topology& topology);

}  // namespace nslab::topology
