#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::packet {

class MacAddress {
 public:
  static constexpr std::size_t kSize = 6;

  constexpr MacAddress() = default;
  constexpr explicit MacAddress(const std::array<std::uint8_t, kSize>& octets) : octets_(octets) {}

  static constexpr MacAddress broadcast() {
    return MacAddress({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  }
  // Reads the first six bytes of `bytes`; the caller checked the length.
  static MacAddress from_bytes(ConstBytes bytes);
  // Six two-digit hex parts separated by ':' ("02:00:5e:10:00:01"), either case.
  static std::optional<MacAddress> parse(std::string_view text);

  void write_to(MutableBytes bytes) const;
  // Lower-case, ':'-separated.
  std::string to_string() const;

  constexpr const std::array<std::uint8_t, kSize>& octets() const { return octets_; }
  constexpr bool is_broadcast() const { return *this == broadcast(); }
  constexpr bool is_multicast() const { return (octets_[0] & 0x01) != 0; }
  constexpr bool is_unicast() const { return !is_multicast(); }
  constexpr bool is_locally_administered() const { return (octets_[0] & 0x02) != 0; }

  friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  std::array<std::uint8_t, kSize> octets_{};
};

}  // namespace nslab::ustack::packet
