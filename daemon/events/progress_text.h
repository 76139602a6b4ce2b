#pragma once

// The one wording of a PROGRESS event, which nslabd puts in the event's message and the CLI
// prints: in a library of its own so that the CLI links it without the daemon's event bus.

#include <string>

#include "nslab/v1/events.pb.h"

namespace nslab::events {

// "building: nodes 3120/10000, links 2900/9999, 4.2 s"; a phase that counts neither nodes
// nor links is named with its own count ("building, routes 40/100: ..."). `finished`: the
// operation completed ("built: ...", "removed: ...").
std::string ProgressText(const nslab::v1::LabProgress& progress, bool finished = false);

}  // namespace nslab::events
