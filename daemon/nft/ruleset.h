#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nslab::nft {

// nslab's own tables in a node (partitions, impairments) start with this; a user's
// ruleset never replaces or flushes them, and nslab never touches the user's.
inline constexpr absl::string_view kOwnTablePrefix = "nslab_";

// `nft -a list ruleset` inside the node.
absl::StatusOr<std::string> ListRuleset(int netns_fd);

// The user's tables alone, as `nft -f` reads them back: what ReplaceUserRuleset restores.
absl::StatusOr<std::string> ListUserRuleset(int netns_fd);

// Replaces the user's tables with `ruleset` in one transaction: either all of it
// applies, or nothing changes (libnftables' message, with line and column, comes back
// as INVALID_ARGUMENT). Tables whose name starts with kOwnTablePrefix are kept.
absl::Status ReplaceUserRuleset(int netns_fd, absl::string_view ruleset);

}  // namespace nslab::nft
