#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace nslab::testing {

// Processes nslabd started for lab `lab` and that still exist (zombies excluded): supervised
// `run:` and ustack processes and exec'd commands carry NSLAB_LAB=<lab> in their environment.
std::vector<pid_t> ProcessesOfLab(const std::string& lab);

// How many TUN/TAP file descriptors process `pid` holds open (its /proc fd table).
int TunFdsOf(pid_t pid);

// Waits up to `timeout_ms` for process `pid` (any process, not only a child) to end; true if
// it did.
bool WaitForProcessExit(pid_t pid, int timeout_ms);

}  // namespace nslab::testing
