#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

namespace nslab::topology {

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};

  size_t size() const;  // 4 or 16
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct IpPrefix {
  IpAddress address;
  int length = 0;

  // The network this prefix belongs to (host bits cleared).
  IpPrefix Network() const;
  // The last address of the prefix (host bits set): an IPv4 subnet's broadcast address.
  IpAddress Last() const;
  bool Contains(const IpAddress& other) const;
  std::string ToString() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

std::optional<IpAddress> ParseIpAddress(absl::string_view text);

// "10.0.0.1/24", "2001:db8::1/64". A bare address is a host prefix (/32 or /128) only when
// `allow_bare` is set.
std::optional<IpPrefix> ParseIpPrefix(absl::string_view text, bool allow_bare = false);

// "02:00:00:00:00:01" — six hex pairs, unicast.
bool IsValidUnicastMac(absl::string_view text);

}  // namespace nslab::topology
