#pragma once

#include <cstddef>

namespace nslab {

// The largest topology text nslabd reads (and so prints), which is gRPC's default receive
// limit too (4 MiB). Here, not with the topology reader, because the CLI refuses a larger
// file before sending it and links none of the daemon's topology code.
inline constexpr size_t kMaxTopologyBytes = 4 << 20;

}  // namespace nslab
