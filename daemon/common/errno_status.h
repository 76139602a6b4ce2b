#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace nslab {

// Maps an errno from a syscall or library on `what` to the gRPC-shaped status code a
// caller can act on (EEXIST -> ALREADY_EXISTS, ENOENT/ENODEV -> NOT_FOUND, ...).
absl::Status ErrnoStatus(absl::string_view what, int err);

}  // namespace nslab
