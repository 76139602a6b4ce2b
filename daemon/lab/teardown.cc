#include "daemon/lab/teardown.h"

#include "absl/strings/str_cat.h"
#include "daemon/netns/netns.h"

namespace nslab::lab {

absl::Status DeleteNamespaces(const std::vector<std::string>& namespaces) {
  absl::Status first_error;
  for (const auto& name : namespaces) {
    if (!netns::Exists(name)) {
      continue;
    }
    if (auto status = netns::Delete(name); !status.ok() && first_error.ok()) {
      first_error = status;
    }
  }
  return first_error;
}

}  // namespace nslab::lab
