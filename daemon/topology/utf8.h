#pragma once

#include "absl/strings/string_view.h"

namespace nslab::topology {

// Whether `text` is well-formed UTF-8: no stray continuation bytes, overlong forms,
// surrogates (which a YAML "\ud800" escape would otherwise smuggle in) or code points above
// U+10FFFF. Protobuf parsers refuse a string field holding anything else, so a topology with
// such text could be neither sent to nslabd nor printed as YAML and read back the same.
bool IsValidUtf8(absl::string_view text);

}  // namespace nslab::topology
