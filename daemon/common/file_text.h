#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace nslab {

// The whole content of a file; NOT_FOUND naming the path when it cannot be read (or is a
// directory, which opens but has no content to read).
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// Why a file a client named cannot be used without its text: nslabd opens no path a client
// sends. `text_field` is where the text belongs ("nftables", "trace").
std::string ClientFileNotSent(const std::string& name, const std::string& text_field);

}  // namespace nslab
