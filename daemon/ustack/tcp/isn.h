#pragma once

// Initial sequence numbers as RFC 6528 builds them: a 4-microsecond clock plus a keyed hash of
// the connection's four numbers, so that ISNs of one connection grow with time while those of
// different connections are unpredictable to an off-path attacker.

#include <cstdint>

#include "daemon/ustack/tcp/endpoint.h"
#include "daemon/ustack/tcp/time.h"

namespace nslab::ustack::tcp {

std::uint32_t initial_sequence_number(const FourTuple& connection, Instant now,
                                      std::uint64_t secret);

}  // namespace nslab::ustack::tcp
