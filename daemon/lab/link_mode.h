#pragma once

#include <string>

#include "absl/status/status.h"
#include "daemon/impair/kernel/kernel_plan.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

struct LinkModeChoice {
  nslab::v1::LinkMode mode = nslab::v1::LINK_MODE_VETH;  // never AUTO
  std::string reason;                                    // shown by `nslab show`
};

// Resolves `mode: auto`: a veth when this kernel's qdiscs and nftables honour every
// impairment the link asks for in both directions, its flows' included (CheckKernelFlows),
// else a userspace wire. An explicit mode is kept as it is (a veth link asking for too much
// fails when it is built; one with flows the kernel cannot play, before: CheckKernelFlows).
LinkModeChoice ChooseLinkMode(const nslab::v1::Link& link,
                              const impair::kernel::KernelFeatures& features);

// Whether the kernel backend can play `link`'s flows beside its own impairments, in both
// directions: OK (also for a link without flows), else the first refusal naming the flow,
// "flows[i] (\"<match>\"): ...", FAILED_PRECONDITION saying "use mode: wire" for what this
// kernel lacks, INVALID_ARGUMENT for a value out of range.
absl::Status CheckKernelFlows(const nslab::v1::Link& link,
                              const impair::kernel::KernelFeatures& features);

}  // namespace nslab::lab
