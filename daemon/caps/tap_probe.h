#pragma once

#include "absl/status/status.h"

namespace nslab::caps {

// Opens /dev/net/tun and creates a transient TAP (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR) in the
// calling thread's namespace; it vanishes when the fd closes.
absl::Status ProbeTap();

}  // namespace nslab::caps
