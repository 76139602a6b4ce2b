#include "daemon/ustack/packet/ipv4_address.h"

#include <charconv>

namespace nslab::ustack::packet {

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::array<std::uint8_t, kSize> octets{};
  const char* p = text.data();
  const char* const end = text.data() + text.size();
  for (std::size_t i = 0; i < kSize; ++i) {
    if (i > 0) {
      if (p == end || *p != '.') {
        return std::nullopt;
      }
      ++p;
    }
    // from_chars accepts neither signs nor spaces; leading zeros are refused so that "010"
    // cannot mean 8 to one reader and 10 to another.
    if (p == end || *p < '0' || *p > '9' ||
        (*p == '0' && p + 1 != end && p[1] >= '0' && p[1] <= '9')) {
      return std::nullopt;
    }
    unsigned value = 0;
    const auto [next, error] = std::from_chars(p, end, value);
    if (error != std::errc() || value > 255) {
      return std::nullopt;
    }
    octets[i] = static_cast<std::uint8_t>(value);
    p = next;
  }
  if (p != end) {
    return std::nullopt;
  }
  return Ipv4Address(octets[0], octets[1], octets[2], octets[3]);
}

std::string Ipv4Address::to_string() const {
  std::string out;
  out.reserve(15);
  for (std::size_t i = 0; i < kSize; ++i) {
    if (i > 0) {
      out.push_back('.');
    }
    out += std::to_string(octets_[i]);
  }
  return out;
}

}  // namespace nslab::ustack::packet
