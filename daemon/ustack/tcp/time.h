#pragma once

// TCP never reads a clock either: the same instants as net/time.h, defined here because tcp/
// sits below net/.

#include <chrono>

namespace nslab::ustack::tcp {

using Instant = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

}  // namespace nslab::ustack::tcp
