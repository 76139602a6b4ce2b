#pragma once

#include "nslab/v1/system.pb.h"

namespace nslab::caps {

// Probes what this kernel can do for labs by trying each feature on scratch objects in a
// scratch namespace ("nslab-probe-<pid>"), which is removed afterwards. Never assumes.
nslab::v1::Capabilities ProbeCapabilities();

// Whether `capabilities` lists `name` as available.
bool Has(const nslab::v1::Capabilities& capabilities, const char* name);

}  // namespace nslab::caps
