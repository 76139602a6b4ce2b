#pragma once

#include <string>

#include "daemon/impair/kernel/kernel_plan.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

struct LinkModeChoice {
  nslab::v1::LinkMode mode = nslab::v1::LINK_MODE_VETH;  // never AUTO
  std::string reason;                                    // shown by `nslab show`
};

// Resolves `mode: auto`: a veth when this kernel's qdiscs and nftables honour every
// impairment the link asks for in both directions, else a userspace wire. An explicit
// mode is kept as it is (a veth link asking for too much fails when it is built).
LinkModeChoice ChooseLinkMode(const nslab::v1::Link& link,
                              const impair::kernel::KernelFeatures& features);

}  // namespace nslab::lab
