#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nslab::nft {

struct NftOptions {
  bool json_output = false;
  bool with_handles = false;
  bool dry_run = false;  // parse and check against the kernel, commit nothing
};

// Runs nft commands (the text of an `nft -f` file) inside the namespace behind
// `netns_fd`, as one transaction: all of it applies, or none. Returns nft's output.
// A syntax or kernel error is INVALID_ARGUMENT carrying libnftables' own message, with
// line and column; the kernel's "Operation not supported" (a family, hook or expression its
// nf_tables lacks) is FAILED_PRECONDITION.
absl::StatusOr<std::string> RunCommands(int netns_fd, absl::string_view commands,
                                        const NftOptions& options = {});

}  // namespace nslab::nft
