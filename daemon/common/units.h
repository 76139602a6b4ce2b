#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace nslab {

// Values in topology files and on the command line use tc's spelling.

// "40ms", "5us", "1.5s", "2m", "1h", or a bare number of milliseconds. -> microseconds.
absl::StatusOr<uint64_t> ParseDurationUs(absl::string_view text);

// "1%", "0.5%", or a bare number meaning percent. -> percent in [0, 100].
absl::StatusOr<double> ParsePercent(absl::string_view text);

// "20mbit", "100kbit", "1gbit", "500bit", "10mbps" (bytes/s, as tc), bare = bit/s.
// -> bits per second.
absl::StatusOr<uint64_t> ParseRateBps(absl::string_view text);

// "32kb", "1mb", "1500b", "64k", bare = bytes. -> bytes.
absl::StatusOr<uint64_t> ParseSizeBytes(absl::string_view text);

// The inverses, for printing: each picks the largest unit that keeps the value exact, so
// that Parse*(Format*(x)) == x for every x (and a bare number, which means milliseconds for
// a duration, is never printed).
std::string FormatDurationUs(uint64_t us);      // 40000 -> "40ms"
std::string FormatDurationSeconds(uint64_t s);  // 600 -> "10m"
std::string FormatRateBps(uint64_t bps);        // 20000000 -> "20mbit"
std::string FormatSizeBytes(uint64_t bytes);    // 32768 -> "32kb"
// The shortest decimal that reads back as the same double, never in exponent form, which
// ParsePercent does not read: 0.1 -> "0.1%". For values in [0, 100].
std::string FormatPercent(double percent);

}  // namespace nslab
