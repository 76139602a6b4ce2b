#pragma once

// The stack never reads a clock: every entry point is told the time, so tests can run ARP
// timeouts in microseconds (smoltcp's Interface::poll(timestamp) does the same).

#include <chrono>

namespace nslab::ustack::net {

using Instant = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

}  // namespace nslab::ustack::net
