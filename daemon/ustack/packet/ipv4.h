#pragma once

// IPv4 headers (RFC 791). The view skips options by IHL and exposes the fragment fields; the
// Repr emits no options.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/checksum.h"
#include "daemon/ustack/packet/ip_protocol.h"
#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::packet {

namespace ipv4_field {
inline constexpr std::size_t kVersionIhl = 0;
inline constexpr std::size_t kDscpEcn = 1;
inline constexpr std::size_t kTotalLen = 2;
inline constexpr std::size_t kIdent = 4;
inline constexpr std::size_t kFlagsFragment = 6;
inline constexpr std::size_t kTtl = 8;
inline constexpr std::size_t kProtocol = 9;
inline constexpr std::size_t kChecksum = 10;
inline constexpr std::size_t kSource = 12;
inline constexpr std::size_t kDestination = 16;
inline constexpr std::size_t kOptions = 20;
}  // namespace ipv4_field

template <ByteSpan Span>
class Ipv4View {
 public:
  static constexpr std::size_t kMinHeaderLen = ipv4_field::kOptions;
  static constexpr std::size_t kMaxHeaderLen = 60;

  // Checks IHL >= 5, header_len() <= total_len() <= buffer size. The buffer may run past
  // total_len() (Ethernet padding); payload() stops at total_len().
  static std::optional<Ipv4View> checked(Span buffer) {
    if (buffer.size() < kMinHeaderLen) {
      return std::nullopt;
    }
    Ipv4View view(buffer);
    const std::size_t header_len = view.header_len();
    if (header_len < kMinHeaderLen || view.total_len() < header_len ||
        view.total_len() > buffer.size()) {
      return std::nullopt;
    }
    return view;
  }
  static Ipv4View unchecked(Span buffer) { return Ipv4View(buffer); }

  std::uint8_t version() const { return read_u8(buffer_, ipv4_field::kVersionIhl) >> 4; }
  std::size_t header_len() const { return (read_u8(buffer_, ipv4_field::kVersionIhl) & 0x0f) * 4u; }
  std::uint8_t dscp() const { return read_u8(buffer_, ipv4_field::kDscpEcn) >> 2; }
  std::uint8_t ecn() const { return read_u8(buffer_, ipv4_field::kDscpEcn) & 0x03; }
  std::uint16_t total_len() const { return read_be16(buffer_, ipv4_field::kTotalLen); }
  std::uint16_t ident() const { return read_be16(buffer_, ipv4_field::kIdent); }
  bool reserved_flag() const { return (flags_fragment() & 0x8000) != 0; }
  bool dont_fragment() const { return (flags_fragment() & 0x4000) != 0; }
  bool more_fragments() const { return (flags_fragment() & 0x2000) != 0; }
  // In bytes (the field counts 8-byte units).
  std::uint16_t fragment_offset() const {
    return static_cast<std::uint16_t>((flags_fragment() & 0x1fff) * 8);
  }
  bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
  std::uint8_t ttl() const { return read_u8(buffer_, ipv4_field::kTtl); }
  std::uint8_t protocol() const { return read_u8(buffer_, ipv4_field::kProtocol); }
  std::uint16_t checksum() const { return read_be16(buffer_, ipv4_field::kChecksum); }
  Ipv4Address source() const {
    return Ipv4Address::from_bytes(buffer_.subspan(ipv4_field::kSource));
  }
  Ipv4Address destination() const {
    return Ipv4Address::from_bytes(buffer_.subspan(ipv4_field::kDestination));
  }
  Span header() const { return buffer_.first(header_len()); }
  Span options() const { return buffer_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen); }
  Span payload() const { return buffer_.subspan(header_len(), total_len() - header_len()); }
  bool verify_checksum() const { return checksum_valid(header()); }
  Span bytes() const { return buffer_; }

  void set_version_and_header_len(std::uint8_t version,
                                  std::size_t header_len) requires kIsMutable<Span> {
    write_u8(buffer_, ipv4_field::kVersionIhl,
             static_cast<std::uint8_t>(version << 4 | header_len / 4));
  }
  void set_dscp_ecn(std::uint8_t dscp, std::uint8_t ecn) requires kIsMutable<Span> {
    write_u8(buffer_, ipv4_field::kDscpEcn, static_cast<std::uint8_t>(dscp << 2 | (ecn & 0x03)));
  }
  void set_total_len(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, ipv4_field::kTotalLen, value);
  }
  void set_ident(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, ipv4_field::kIdent, value);
  }
  // `offset` in bytes, a multiple of 8.
  void set_fragment(bool dont_fragment, bool more_fragments,
                    std::uint16_t offset) requires kIsMutable<Span> {
    const auto value = static_cast<std::uint16_t>((dont_fragment ? 0x4000 : 0) |
                                                  (more_fragments ? 0x2000 : 0) | (offset / 8));
    write_be16(buffer_, ipv4_field::kFlagsFragment, value);
  }
  void set_ttl(std::uint8_t value) requires kIsMutable<Span> {
    write_u8(buffer_, ipv4_field::kTtl, value);
  }
  void set_protocol(std::uint8_t value) requires kIsMutable<Span> {
    write_u8(buffer_, ipv4_field::kProtocol, value);
  }
  void set_checksum(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, ipv4_field::kChecksum, value);
  }
  void set_source(Ipv4Address value) requires kIsMutable<Span> {
    value.write_to(buffer_.subspan(ipv4_field::kSource));
  }
  void set_destination(Ipv4Address value) requires kIsMutable<Span> {
    value.write_to(buffer_.subspan(ipv4_field::kDestination));
  }
  // Computes the header checksum over header_len() bytes.
  void fill_checksum() requires kIsMutable<Span> {
    set_checksum(0);
    set_checksum(internet_checksum(header()));
  }

  operator Ipv4View<ConstBytes>() const requires kIsMutable<Span> {
    return Ipv4View<ConstBytes>::unchecked(buffer_);
  }

 private:
  explicit Ipv4View(Span buffer) : buffer_(buffer) {}
  std::uint16_t flags_fragment() const { return read_be16(buffer_, ipv4_field::kFlagsFragment); }
  Span buffer_;
};

struct Ipv4Repr {
  Ipv4Address source;
  Ipv4Address destination;
  std::uint8_t protocol = 0;
  std::uint16_t payload_len = 0;
  std::uint8_t ttl = 64;
  std::uint8_t dscp = 0;
  std::uint8_t ecn = 0;
  std::uint16_t ident = 0;
  bool dont_fragment = true;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // bytes, a multiple of 8

  // nullopt unless version 4 with a valid header checksum. The IPv4 header checksum is never
  // offloaded by virtio-net, so it is always verified. Options are skipped.
  static std::optional<Ipv4Repr> parse(const Ipv4View<ConstBytes>& view);
  // The header only (no options); the payload of payload_len bytes follows at buffer_len().
  std::size_t buffer_len() const { return Ipv4View<ConstBytes>::kMinHeaderLen; }
  // Writes the header with its checksum.
  void emit(MutableBytes buffer) const;

  friend bool operator==(const Ipv4Repr&, const Ipv4Repr&) = default;
};

}  // namespace nslab::ustack::packet
