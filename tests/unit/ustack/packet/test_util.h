#pragma once

#include <cstddef>
#include <vector>

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::packet::testing {

// An exactly sized heap copy, so that AddressSanitizer catches any read past its end.
inline std::vector<std::byte> heap_copy(ConstBytes bytes) { return {bytes.begin(), bytes.end()}; }

inline ConstBytes view_of(const std::vector<std::byte>& bytes) { return bytes; }

}  // namespace nslab::ustack::packet::testing
