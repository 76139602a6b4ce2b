#pragma once

// UDP (RFC 768) over IPv4, with the pseudo-header checksum.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/checksum.h"
#include "daemon/ustack/packet/ip_protocol.h"
#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::packet {

namespace udp_field {
inline constexpr std::size_t kSourcePort = 0;
inline constexpr std::size_t kDestinationPort = 2;
inline constexpr std::size_t kLength = 4;
inline constexpr std::size_t kChecksum = 6;
inline constexpr std::size_t kPayload = 8;
}  // namespace udp_field

template <ByteSpan Span>
class UdpView {
 public:
  static constexpr std::size_t kHeaderLen = udp_field::kPayload;

  // Checks 8 <= length() <= buffer size; payload() and the checksum stop at length().
  static std::optional<UdpView> checked(Span buffer) {
    if (buffer.size() < kHeaderLen) {
      return std::nullopt;
    }
    UdpView view(buffer);
    if (view.length() < kHeaderLen || view.length() > buffer.size()) {
      return std::nullopt;
    }
    return view;
  }
  static UdpView unchecked(Span buffer) { return UdpView(buffer); }

  std::uint16_t source_port() const { return read_be16(buffer_, udp_field::kSourcePort); }
  std::uint16_t destination_port() const { return read_be16(buffer_, udp_field::kDestinationPort); }
  std::uint16_t length() const { return read_be16(buffer_, udp_field::kLength); }
  std::uint16_t checksum() const { return read_be16(buffer_, udp_field::kChecksum); }
  Span datagram() const { return buffer_.first(length()); }
  Span bytes() const { return buffer_; }
  Span payload() const { return buffer_.subspan(kHeaderLen, length() - kHeaderLen); }
  // A zero checksum field means the sender computed none (allowed over IPv4).
  bool verify_checksum(Ipv4Address source, Ipv4Address destination) const {
    return checksum() == 0 ||
           ones_complement_sum(datagram(), pseudo_header_sum(source, destination, ip_protocol::kUdp,
                                                             length())) == 0xffff;
  }

  void set_source_port(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, udp_field::kSourcePort, value);
  }
  void set_destination_port(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, udp_field::kDestinationPort, value);
  }
  void set_length(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, udp_field::kLength, value);
  }
  void set_checksum(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, udp_field::kChecksum, value);
  }
  // Over length() bytes; the payload must be in place. kOffload leaves the pseudo-header sum
  // for a NEEDS_CSUM device (csum_start at this header, csum_offset 6).
  void fill_checksum(Ipv4Address source, Ipv4Address destination,
                     Checksum mode = Checksum::kCompute) requires kIsMutable<Span> {
    const std::uint16_t pseudo =
        pseudo_header_sum(source, destination, ip_protocol::kUdp, length());
    if (mode == Checksum::kOffload) {
      set_checksum(pseudo);
      return;
    }
    set_checksum(0);
    const auto sum = static_cast<std::uint16_t>(~ones_complement_sum(datagram(), pseudo));
    // 0 would mean "no checksum"; its ones' complement twin says the same sum.
    set_checksum(sum == 0 ? 0xffff : sum);
  }

  operator UdpView<ConstBytes>() const requires kIsMutable<Span> {
    return UdpView<ConstBytes>::unchecked(buffer_);
  }

 private:
  explicit UdpView(Span buffer) : buffer_(buffer) {}
  Span buffer_;
};

struct UdpRepr {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  // Borrowed from the parsed buffer (or the caller's); emit copies it.
  ConstBytes payload;

  // nullopt for destination port 0 or (with kCompute) a bad checksum.
  static std::optional<UdpRepr> parse(const UdpView<ConstBytes>& view, Ipv4Address source,
                                      Ipv4Address destination, Checksum mode = Checksum::kCompute);
  // Header and payload; at most 65535.
  std::size_t buffer_len() const { return UdpView<ConstBytes>::kHeaderLen + payload.size(); }
  void emit(MutableBytes buffer, Ipv4Address source, Ipv4Address destination,
            Checksum mode = Checksum::kCompute) const;

  friend bool operator==(const UdpRepr& a, const UdpRepr& b);
};

}  // namespace nslab::ustack::packet
