#pragma once

// An IPv4 address with a prefix length ("10.0.0.2/24"): an interface address or a route's
// destination.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::net {

struct Ipv4Cidr {
  packet::Ipv4Address address;
  std::uint8_t prefix_len = 32;

  // "a.b.c.d/n" with n in 0..32; a bare address is a /32.
  static std::optional<Ipv4Cidr> parse(absl::string_view text);

  std::uint32_t mask() const {
    return prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
  }
  packet::Ipv4Address network() const {
    return packet::Ipv4Address::from_u32(address.to_u32() & mask());
  }
  // The directed broadcast address; for /31 and /32 there is none and this is the address.
  packet::Ipv4Address broadcast() const {
    if (prefix_len >= 31) {
      return address;
    }
    return packet::Ipv4Address::from_u32(address.to_u32() | ~mask());
  }
  bool contains(packet::Ipv4Address other) const {
    return (other.to_u32() & mask()) == (address.to_u32() & mask());
  }
  std::string to_string() const;

  friend bool operator==(const Ipv4Cidr&, const Ipv4Cidr&) = default;
};

}  // namespace nslab::ustack::net
