#pragma once

#include <string>
#include <vector>

namespace nslab::exec {

// SIGKILLs every process whose network namespace is one of `namespaces` (names under
// /run/netns), found by namespace identity in /proc/<pid>/ns/net — never by name or
// pattern. Returns how many were signalled. Used when a lab goes away, so nothing
// started inside it (supervised, exec'd, or left in the background) keeps it alive.
int KillProcessesIn(const std::vector<std::string>& namespaces);

}  // namespace nslab::exec
