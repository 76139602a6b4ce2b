#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::packet {

class Ipv4Address {
 public:
  static constexpr std::size_t kSize = 4;

  constexpr Ipv4Address() = default;
  constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : octets_{a, b, c, d} {}

  static constexpr Ipv4Address from_u32(std::uint32_t value) {
    return {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
            static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
  }
  // Reads the first four bytes of `bytes` (network order); the caller checked the length.
  static Ipv4Address from_bytes(ConstBytes bytes) { return from_u32(read_be32(bytes, 0)); }
  // Dotted quad, each part a decimal 0-255 without leading zeros ("10.0.0.1").
  static std::optional<Ipv4Address> parse(std::string_view text);

  constexpr std::uint32_t to_u32() const {
    return std::uint32_t{octets_[0]} << 24 | std::uint32_t{octets_[1]} << 16 |
           std::uint32_t{octets_[2]} << 8 | octets_[3];
  }
  void write_to(MutableBytes bytes) const { write_be32(bytes, 0, to_u32()); }
  std::string to_string() const;

  constexpr const std::array<std::uint8_t, kSize>& octets() const { return octets_; }
  constexpr bool is_unspecified() const { return to_u32() == 0; }
  constexpr bool is_broadcast() const { return to_u32() == 0xffffffff; }
  constexpr bool is_multicast() const { return (octets_[0] & 0xf0) == 0xe0; }
  constexpr bool is_loopback() const { return octets_[0] == 127; }

  friend constexpr auto operator<=>(const Ipv4Address&, const Ipv4Address&) = default;

 private:
  std::array<std::uint8_t, kSize> octets_{};
};

}  // namespace nslab::ustack::packet
