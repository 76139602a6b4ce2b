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

// Devices nslab makes in a node's namespace besides the ends of its links, so names a link's
// interface there cannot take: a switch's bridge, and a ustack node's bridge and the TAP its
// stack attaches to.
inline constexpr char kSwitchBridge[] = "br0";
inline constexpr char kUstackBridge[] = "nsl-br0";
inline constexpr char kUstackTap[] = "nsl-tap0";

std::string NamespaceOf(absl::string_view lab, absl::string_view node);

}  // namespace nslab::topology
