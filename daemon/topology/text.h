#pragma once

#include <optional>

#include "absl/strings/string_view.h"

namespace nslab::topology {

// Why `text` cannot be a topology's text, or nothing when it can. It must be well-formed
// UTF-8 (no stray bytes, overlong forms, surrogates or code points above U+10FFFF): protobuf
// parsers refuse anything else in a string field. And it must hold no Unicode noncharacter
// (U+FDD0..U+FDEF, U+FFFE, U+FFFF and their kin in every plane): yaml-cpp's printer turns
// them into U+FFFD in quoted text, so they could not be printed as YAML and read back.
std::optional<absl::string_view> TextProblem(absl::string_view text);

}  // namespace nslab::topology
