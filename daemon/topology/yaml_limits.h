#pragma once

#include <cstddef>
#include <optional>

#include "absl/strings/string_view.h"
#include "daemon/topology/field_error.h"

namespace nslab::topology {

// The largest topology text nslab reads (and so prints).
inline constexpr size_t kMaxTopologyBytes = 4 << 20;
// How deep the text may nest: brackets ('[' and '{', wherever they are, strings included)
// and, at the start of a line, indentation and "- " markers (4 columns a level).
inline constexpr int kMaxNesting = 64;

// Refuses text too large or nested too deep to hand to yaml-cpp, which parses nested
// collections recursively: a hostile file of a few kilobytes of "[[[[" or "- - - -" would
// exhaust the stack. A cheap over-estimate, not a parse: no real topology comes near.
std::optional<FieldError> CheckYamlShape(absl::string_view text);

}  // namespace nslab::topology
