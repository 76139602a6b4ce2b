#pragma once

// ARP (RFC 826). The view handles any hardware/protocol address lengths; the Repr only
// Ethernet/IPv4, the one kind a participant node speaks.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/ipv4_address.h"
#include "daemon/ustack/packet/mac_address.h"

namespace nslab::ustack::packet {

namespace arp_field {
inline constexpr std::size_t kHardwareType = 0;
inline constexpr std::size_t kProtocolType = 2;
inline constexpr std::size_t kHardwareLen = 4;
inline constexpr std::size_t kProtocolLen = 5;
inline constexpr std::size_t kOperation = 6;
inline constexpr std::size_t kAddresses = 8;
}  // namespace arp_field

inline constexpr std::uint16_t kArpHardwareEthernet = 1;
inline constexpr std::uint16_t kArpOperationRequest = 1;
inline constexpr std::uint16_t kArpOperationReply = 2;

template <ByteSpan Span>
class ArpView {
 public:
  static constexpr std::size_t kFixedLen = arp_field::kAddresses;

  // Checks that the four addresses that hardware_len() and protocol_len() announce fit.
  static std::optional<ArpView> checked(Span buffer) {
    if (buffer.size() < kFixedLen) {
      return std::nullopt;
    }
    ArpView view(buffer);
    if (buffer.size() < view.packet_len()) {
      return std::nullopt;
    }
    return view;
  }
  static ArpView unchecked(Span buffer) { return ArpView(buffer); }

  std::uint16_t hardware_type() const { return read_be16(buffer_, arp_field::kHardwareType); }
  std::uint16_t protocol_type() const { return read_be16(buffer_, arp_field::kProtocolType); }
  std::uint8_t hardware_len() const { return read_u8(buffer_, arp_field::kHardwareLen); }
  std::uint8_t protocol_len() const { return read_u8(buffer_, arp_field::kProtocolLen); }
  std::uint16_t operation() const { return read_be16(buffer_, arp_field::kOperation); }
  Span source_hardware_address() const { return buffer_.subspan(kFixedLen, hardware_len()); }
  Span source_protocol_address() const {
    return buffer_.subspan(kFixedLen + hardware_len(), protocol_len());
  }
  Span target_hardware_address() const {
    return buffer_.subspan(kFixedLen + hardware_len() + protocol_len(), hardware_len());
  }
  Span target_protocol_address() const {
    return buffer_.subspan(kFixedLen + 2 * hardware_len() + protocol_len(), protocol_len());
  }
  Span bytes() const { return buffer_; }
  // Ethernet pads short frames, so the buffer may be longer than the packet.
  std::size_t packet_len() const { return kFixedLen + 2 * (hardware_len() + protocol_len()); }

  void set_hardware_type(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, arp_field::kHardwareType, value);
  }
  void set_protocol_type(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, arp_field::kProtocolType, value);
  }
  // The address setters below lay out by these two lengths: set them first.
  void set_hardware_len(std::uint8_t value) requires kIsMutable<Span> {
    write_u8(buffer_, arp_field::kHardwareLen, value);
  }
  void set_protocol_len(std::uint8_t value) requires kIsMutable<Span> {
    write_u8(buffer_, arp_field::kProtocolLen, value);
  }
  void set_operation(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, arp_field::kOperation, value);
  }

  operator ArpView<ConstBytes>() const requires kIsMutable<Span> {
    return ArpView<ConstBytes>::unchecked(buffer_);
  }

 private:
  explicit ArpView(Span buffer) : buffer_(buffer) {}
  Span buffer_;
};

struct ArpRepr {
  std::uint16_t operation = kArpOperationRequest;
  MacAddress source_mac;
  Ipv4Address source_ip;
  MacAddress target_mac;
  Ipv4Address target_ip;

  // nullopt unless Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4) and a request or reply.
  static std::optional<ArpRepr> parse(const ArpView<ConstBytes>& view);
  std::size_t buffer_len() const { return ArpView<ConstBytes>::kFixedLen + 2 * (6 + 4); }
  void emit(MutableBytes buffer) const;

  friend bool operator==(const ArpRepr&, const ArpRepr&) = default;
};

}  // namespace nslab::ustack::packet
