#pragma once

// Ethernet II frames (no 802.1Q handling: a VLAN tag shows up as its EtherType).

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/mac_address.h"

namespace nslab::ustack::packet {

namespace ethertype {
inline constexpr std::uint16_t kIpv4 = 0x0800;
inline constexpr std::uint16_t kArp = 0x0806;
inline constexpr std::uint16_t kVlan = 0x8100;
inline constexpr std::uint16_t kIpv6 = 0x86dd;
}  // namespace ethertype

namespace ethernet_field {
inline constexpr std::size_t kDestination = 0;
inline constexpr std::size_t kSource = 6;
inline constexpr std::size_t kEtherType = 12;
inline constexpr std::size_t kPayload = 14;
}  // namespace ethernet_field

template <ByteSpan Span>
class EthernetView {
 public:
  static constexpr std::size_t kHeaderLen = ethernet_field::kPayload;

  static std::optional<EthernetView> checked(Span buffer) {
    if (buffer.size() < kHeaderLen) {
      return std::nullopt;
    }
    return EthernetView(buffer);
  }
  // For emit: the caller guarantees kHeaderLen bytes.
  static EthernetView unchecked(Span buffer) { return EthernetView(buffer); }

  MacAddress destination() const {
    return MacAddress::from_bytes(buffer_.subspan(ethernet_field::kDestination));
  }
  MacAddress source() const {
    return MacAddress::from_bytes(buffer_.subspan(ethernet_field::kSource));
  }
  std::uint16_t ethertype() const { return read_be16(buffer_, ethernet_field::kEtherType); }
  Span payload() const { return buffer_.subspan(kHeaderLen); }
  Span bytes() const { return buffer_; }

  void set_destination(MacAddress mac) requires kIsMutable<Span> {
    mac.write_to(buffer_.subspan(ethernet_field::kDestination));
  }
  void set_source(MacAddress mac) requires kIsMutable<Span> {
    mac.write_to(buffer_.subspan(ethernet_field::kSource));
  }
  void set_ethertype(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, ethernet_field::kEtherType, value);
  }

  operator EthernetView<ConstBytes>() const requires kIsMutable<Span> {
    return EthernetView<ConstBytes>::unchecked(buffer_);
  }

 private:
  explicit EthernetView(Span buffer) : buffer_(buffer) {}
  Span buffer_;
};

struct EthernetRepr {
  MacAddress destination;
  MacAddress source;
  std::uint16_t ethertype = 0;

  static std::optional<EthernetRepr> parse(const EthernetView<ConstBytes>& view);
  // The header only; the payload follows at buffer_len().
  std::size_t buffer_len() const { return EthernetView<ConstBytes>::kHeaderLen; }
  // `buffer` holds at least buffer_len() bytes.
  void emit(MutableBytes buffer) const;

  friend bool operator==(const EthernetRepr&, const EthernetRepr&) = default;
};

}  // namespace nslab::ustack::packet
