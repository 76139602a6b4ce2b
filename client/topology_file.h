#pragma once

#include <optional>
#include <string>

#include "nslab/v1/labs.pb.h"

namespace nslab::client {

// A CreateLabRequest carrying the text of a topology file and the folder its relative
// paths are resolved against. Prints why and returns nothing when the file is unreadable.
std::optional<nslab::v1::CreateLabRequest> RequestFromFile(const std::string& path);

}  // namespace nslab::client
