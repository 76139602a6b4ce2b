#pragma once

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace nslab::topology {

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

}  // namespace nslab::topology
