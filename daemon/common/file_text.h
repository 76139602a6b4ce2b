#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace nslab {

// The whole content of a file; NOT_FOUND naming the path when it cannot be read.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace nslab
