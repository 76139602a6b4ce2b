#pragma once

// The four numbers that name a connection.

#include <compare>
#include <cstdint>
#include <string>

#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::tcp {

struct Endpoint {
  packet::Ipv4Address address;
  std::uint16_t port = 0;

  std::string to_string() const { return address.to_string() + ":" + std::to_string(port); }
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

struct FourTuple {
  Endpoint local;
  Endpoint remote;

  friend auto operator<=>(const FourTuple&, const FourTuple&) = default;
};

}  // namespace nslab::ustack::tcp
