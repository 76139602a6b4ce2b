#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace nslab::lab {

// Deletes the named namespaces that exist (a namespace that is already gone is fine);
// every link inside one goes with it. Only names the daemon recorded as its own may be
// passed here.
absl::Status DeleteNamespaces(const std::vector<std::string>& namespaces);

}  // namespace nslab::lab
