#pragma once

#include "absl/status/statusor.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

// `conntrack -L` inside the namespace, through ctnetlink (libnl-nf). A kernel without
// connection tracking loaded answers with an empty table and a note, not an error.
absl::StatusOr<nslab::v1::ConntrackResponse> ListConntrack(int netns_fd);

}  // namespace nslab::diag
