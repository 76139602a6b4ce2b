#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nslab::scenario {

// The signals kill and restart steps may send, by name: TERM, KILL, INT, HUP, QUIT, USR1,
// USR2, STOP, CONT, with or without the SIG prefix, in upper or lower case. An empty name
// is KILL (ProcessAction.signal's default). INVALID_ARGUMENT for any other name, listing
// the known ones.
absl::StatusOr<int> SignalNumber(absl::string_view name);

// "TERM, KILL, INT, ...", for messages and documentation.
std::string KnownSignalNames();

}  // namespace nslab::scenario
