#pragma once

// Emitting into a buffer shorter than buffer_len() is a bug in the caller, never in the data:
// stop there rather than write past the buffer.

#include <cstddef>
#include <cstdlib>

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::packet {

inline void check_emit_buffer(MutableBytes buffer, std::size_t needed) {
  if (buffer.size() < needed) {
    std::abort();
  }
}

}  // namespace nslab::ustack::packet
