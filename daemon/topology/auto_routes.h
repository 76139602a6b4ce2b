#pragma once

#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

// For `routing: auto`: adds static routes so every host and router reaches every subnet
// of the lab along a shortest path (fewest routers), IPv4 and IPv6 separately. Only
// routers forward; switches join their ports into one segment. Routes the file already
// gives for a destination are kept and not duplicated. Ties go to the node listed first,
// so the same file always gives the same routes.
void AddAutoRoutes(nslab::v1::Topology* topology);

}  // namespace nslab::topology
