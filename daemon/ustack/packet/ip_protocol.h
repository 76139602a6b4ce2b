#pragma once

#include <cstdint>

namespace nslab::ustack::packet::ip_protocol {

// IPv4 protocol numbers (IANA) the stack speaks.
inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kTcp = 6;
inline constexpr std::uint8_t kUdp = 17;

}  // namespace nslab::ustack::packet::ip_protocol
