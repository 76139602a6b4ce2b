#include "daemon/ustack/packet/mac_address.h"

namespace nslab::ustack::packet {
namespace {

constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

MacAddress MacAddress::from_bytes(ConstBytes bytes) {
  std::array<std::uint8_t, kSize> octets{};
  for (std::size_t i = 0; i < kSize; ++i) {
    octets[i] = read_u8(bytes, i);
  }
  return MacAddress(octets);
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  if (text.size() != 3 * kSize - 1) {
    return std::nullopt;
  }
  std::array<std::uint8_t, kSize> octets{};
  for (std::size_t i = 0; i < kSize; ++i) {
    const std::size_t at = 3 * i;
    if (i > 0 && text[at - 1] != ':') {
      return std::nullopt;
    }
    const int high = hex_value(text[at]);
    const int low = hex_value(text[at + 1]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    octets[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return MacAddress(octets);
}

void MacAddress::write_to(MutableBytes bytes) const {
  for (std::size_t i = 0; i < kSize; ++i) {
    write_u8(bytes, i, octets_[i]);
  }
}

std::string MacAddress::to_string() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(3 * kSize - 1, ':');
  for (std::size_t i = 0; i < kSize; ++i) {
    out[3 * i] = kDigits[octets_[i] >> 4];
    out[3 * i + 1] = kDigits[octets_[i] & 0x0f];
  }
  return out;
}

}  // namespace nslab::ustack::packet
