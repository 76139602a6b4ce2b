#include "daemon/topology/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nslab::topology {

size_t IpAddress::size() const { return family == AF_INET ? 4 : 16; }

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), buf, sizeof(buf));
  return buf;
}

IpPrefix IpPrefix::Network() const {
  IpPrefix result = *this;
  for (size_t i = 0; i < address.size(); ++i) {
    const int bits = std::clamp(length - static_cast<int>(i) * 8, 0, 8);
    result.address.bytes[i] &= static_cast<uint8_t>(0xff00 >> bits);
  }
  return result;
}

IpAddress IpPrefix::Last() const {
  IpAddress result = address;
  for (size_t i = 0; i < address.size(); ++i) {
    const int bits = std::clamp(length - static_cast<int>(i) * 8, 0, 8);
    result.bytes[i] |= static_cast<uint8_t>(0xff >> bits);
  }
  return result;
}

bool IpPrefix::Contains(const IpAddress& other) const {
  if (other.family != address.family) {
    return false;
  }
  IpPrefix probe{other, length};
  return probe.Network().address == Network().address;
}

std::string IpPrefix::ToString() const { return absl::StrCat(address.ToString(), "/", length); }

std::optional<IpAddress> ParseIpAddress(absl::string_view text) {
  const std::string copy(text);
  IpAddress result;
  if (inet_pton(AF_INET, copy.c_str(), result.bytes.data()) == 1) {
    result.family = AF_INET;
    return result;
  }
  if (inet_pton(AF_INET6, copy.c_str(), result.bytes.data()) == 1) {
    result.family = AF_INET6;
    return result;
  }
  return std::nullopt;
}

std::optional<IpPrefix> ParseIpPrefix(absl::string_view text, bool allow_bare) {
  const size_t slash = text.find('/');
  if (slash == absl::string_view::npos && !allow_bare) {
    return std::nullopt;
  }
  auto address = ParseIpAddress(text.substr(0, slash));
  if (!address) {
    return std::nullopt;
  }
  const int max = address->family == AF_INET ? 32 : 128;
  int length = max;
  if (slash != absl::string_view::npos) {
    const absl::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || !absl::SimpleAtoi(digits, &length) || length < 0 ||
        length > max) {
      return std::nullopt;
    }
  }
  return IpPrefix{*address, length};
}

bool IsValidUnicastMac(absl::string_view text) {
  if (text.size() != 17) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2 ? text[i] != ':' : !absl::ascii_isxdigit(text[i])) {
      return false;
    }
  }
  int first = 0;
  return absl::SimpleHexAtoi(text.substr(0, 2), &first) && (first & 1) == 0;
}

}  // namespace nslab::topology
