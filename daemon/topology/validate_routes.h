#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/topology/field_error.h"
#include "daemon/topology/ip_address.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// A node's interfaces (every one its links give it, addressed or not) and the prefixes
// the topology puts on each.
using InterfaceAddresses = std::map<std::string, std::vector<IpPrefix>>;

// Checks a node's routes and policy rules against its interfaces, as the kernel (or, on a
// ustack node, the stack) will when they are added in order after every address: a gateway
// must be on one of the node's subnets (on `dev`'s when given), a route must not collide
// with one already there. Returns the first problem found.
std::optional<FieldError> CheckRoutesAndRules(const nslab::v1::Node& node,
                                              const InterfaceAddresses& interfaces);

}  // namespace nslab::topology
