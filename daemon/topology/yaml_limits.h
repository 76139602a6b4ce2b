#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/common/request_limits.h"
#include "daemon/topology/field_error.h"

namespace nslab::topology {

// How deep the text may nest: brackets ('[' and '{', wherever they are, strings included)
// and, at the start of a line, indentation and "- " markers (4 columns a level).
inline constexpr int kMaxNesting = 64;

// Refuses text too large or nested too deep to hand to yaml-cpp, which parses nested
// collections recursively: a hostile file of a few kilobytes of "[[[[" or "- - - -" would
// exhaust the stack. A cheap over-estimate, not a parse: no real topology comes near.
std::optional<FieldError> CheckYamlShape(absl::string_view text);

// The text as a YAML tree: CheckYamlShape first, then yaml-cpp's parse. INVALID_ARGUMENT with
// the line for either.
absl::StatusOr<YAML::Node> LoadCheckedYaml(absl::string_view text);

// Runs `read` over a loaded tree. yaml-cpp throws on a few malformed shapes (a duplicate
// anchor, a bad conversion); that becomes INVALID_ARGUMENT "not a valid <what>: ... (line N)",
// never an exception leaving the reader.
absl::Status CatchYamlErrors(absl::string_view what, const std::function<void()>& read);

}  // namespace nslab::topology
