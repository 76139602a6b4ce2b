#pragma once

#include <chrono>
#include <cstdint>

namespace nslab::impair {

// Time is always handed in by the caller (an Asio timer in the daemon, a plain counter in tests):
// nothing in impair/ or wire/ reads a clock, so a seed and a sequence of (frame, time) pairs
// replay exactly.
using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

// Nanoseconds since the clock's epoch; the models do their arithmetic on plain integers.
inline int64_t ToNanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline TimePoint FromNanos(int64_t ns) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace nslab::impair
