#pragma once

// The daemon's side of a ustack node's control socket (UstackControlService): the calls the
// Participants service, diagnostics and the scenario engine's ustack_fault action all make.
// Each checks that the lab has the node and that it is of kind ustack, then asks the node's
// nslab-ustack process with a short deadline.
//
// Errors: NOT_FOUND for an unknown lab or node; FAILED_PRECONDITION for a node that is not of
// kind ustack; UNAVAILABLE when its stack does not answer (naming `nslab logs LAB NODE`); and
// whatever the stack says (INVALID_ARGUMENT, NOT_FOUND) with its message.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/lab/lab_registry.h"
#include "nslab/v1/ustack.pb.h"

namespace nslab::lab {

// Every layer's counters, the socket table, the built-in clients and the faults in force.
absl::StatusOr<nslab::v1::UstackStats> GetUstackStats(const LabRegistry& labs,
                                                      const std::string& lab,
                                                      const std::string& node);

// Ring sizes, coalescing, offloads; unset fields stay. Returns the settings now in force.
absl::StatusOr<nslab::v1::UstackNicSettings> SetUstackNic(
    const LabRegistry& labs, const std::string& lab, const std::string& node,
    const nslab::v1::UstackControlServiceSetNicRequest& nic);

// Sets (mode "clear": removes) the fault of the node's TCP service port `fault.port`; returns
// every fault now in force. INVALID_ARGUMENT for a mode or number the stack does not take;
// NOT_FOUND, listing the node's TCP service ports, when none is `fault.port`.
absl::StatusOr<std::vector<nslab::v1::UstackFault>> SetUstackFault(
    const LabRegistry& labs, const std::string& lab, const std::string& node,
    const nslab::v1::UstackFault& fault);

}  // namespace nslab::lab
