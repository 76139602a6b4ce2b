#include "daemon/ustack/net/ipv4_cidr.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nslab::ustack::net {

std::optional<Ipv4Cidr> Ipv4Cidr::parse(absl::string_view text) {
  const std::size_t slash = text.find('/');
  const absl::string_view address_text = text.substr(0, slash);
  const std::optional<packet::Ipv4Address> address =
      packet::Ipv4Address::parse(std::string_view(address_text.data(), address_text.size()));
  if (!address) {
    return std::nullopt;
  }
  if (slash == absl::string_view::npos) {
    return Ipv4Cidr{*address, 32};
  }
  const absl::string_view length_text = text.substr(slash + 1);
  std::uint32_t length = 0;
  if (length_text.empty() || length_text.size() > 2 || !absl::SimpleAtoi(length_text, &length) ||
      length > 32) {
    return std::nullopt;
  }
  return Ipv4Cidr{*address, static_cast<std::uint8_t>(length)};
}

std::string Ipv4Cidr::to_string() const {
  return absl::StrCat(address.to_string(), "/", prefix_len);
}

}  // namespace nslab::ustack::net
