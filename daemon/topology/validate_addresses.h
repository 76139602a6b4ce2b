#pragma once

#include <optional>

#include "daemon/topology/field_error.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// One address on two interfaces of one L2 segment (a link, or every link of a group of
// switches joined by links): each would answer ARP or neighbour discovery for it, and which
// one a peer reaches is chance. Names both places.
std::optional<FieldError> CheckSegmentAddresses(const nslab::v1::Topology& topology);

// A link whose MTU is below IPv6's minimum, 1280, with an IPv6 address on an end: the kernel
// turns IPv6 off on such an interface and refuses the address.
std::optional<FieldError> CheckIpv6Mtu(const nslab::v1::Link& link, const std::string& path);

}  // namespace nslab::topology
