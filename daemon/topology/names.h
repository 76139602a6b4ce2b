#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace nslab::topology {

// Labs and nodes: lowercase letters, digits and '-', starting with a letter. The
// namespace of a node is "<lab>-<node>".
inline constexpr size_t kMaxLabNameLength = 32;
inline constexpr size_t kMaxNodeNameLength = 32;

absl::Status CheckLabName(absl::string_view name);
absl::Status CheckNodeName(absl::string_view name);

// Linux interface names: 1..15 bytes, no '/', ':' or whitespace, not "." or "..".
absl::Status CheckInterfaceName(absl::string_view name);

std::string NamespaceOf(absl::string_view lab, absl::string_view node);

}  // namespace nslab::topology
