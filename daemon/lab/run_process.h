#pragma once

#include <string>

#include "daemon/exec/supervisor.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// What the supervisor runs for a node's `run:` entry: its command inside the node's
// namespace, its restart policy, and its ready condition (a port is asked of the namespace's
// socket tables, a line of the process's output).
exec::ProcessSpec RunProcessSpec(const std::string& lab, const nslab::v1::Node& node,
                                 const nslab::v1::Process& process);

}  // namespace nslab::lab
