#pragma once

#include <string>

#include "daemon/lab/lab_registry.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

// Adds to a node's link statistics what the kernel cannot count: each wire link's pipeline
// (as `ethtool -S`-style driver counters of its TAP, "wire_out_*" for the direction the
// node sends, "wire_in_*" for the one it receives) and, on a ustack node, its stack's NIC
// ring sizes and counters ("ustack_*") on the TAP the stack sits behind.
void AddOwnCounters(const lab::LabRegistry& labs, const std::string& lab, const std::string& node,
                    nslab::v1::LinksResponse* list);

}  // namespace nslab::diag
