#pragma once

// ICMP for IPv4 (RFC 792): echo, destination unreachable and time exceeded.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/checksum.h"

namespace nslab::ustack::packet {

namespace icmp_type {
inline constexpr std::uint8_t kEchoReply = 0;
inline constexpr std::uint8_t kDestinationUnreachable = 3;
inline constexpr std::uint8_t kEchoRequest = 8;
inline constexpr std::uint8_t kTimeExceeded = 11;
}  // namespace icmp_type

// Destination unreachable codes that the stack sends or reacts to.
namespace icmp_unreachable {
inline constexpr std::uint8_t kNetUnreachable = 0;
inline constexpr std::uint8_t kHostUnreachable = 1;
inline constexpr std::uint8_t kProtocolUnreachable = 2;
inline constexpr std::uint8_t kPortUnreachable = 3;
inline constexpr std::uint8_t kFragmentationNeeded = 4;
inline constexpr std::uint8_t kMaxCode = 15;
}  // namespace icmp_unreachable

namespace icmp_field {
inline constexpr std::size_t kType = 0;
inline constexpr std::size_t kCode = 1;
inline constexpr std::size_t kChecksum = 2;
inline constexpr std::size_t kEchoIdent = 4;
inline constexpr std::size_t kEchoSeq = 6;
inline constexpr std::size_t kNextHopMtu = 6;
inline constexpr std::size_t kData = 8;
}  // namespace icmp_field

template <ByteSpan Span>
class IcmpView {
 public:
  static constexpr std::size_t kHeaderLen = icmp_field::kData;

  // The message is the whole buffer (the IPv4 payload), checksum included.
  static std::optional<IcmpView> checked(Span buffer) {
    if (buffer.size() < kHeaderLen) {
      return std::nullopt;
    }
    return IcmpView(buffer);
  }
  static IcmpView unchecked(Span buffer) { return IcmpView(buffer); }

  std::uint8_t type() const { return read_u8(buffer_, icmp_field::kType); }
  std::uint8_t code() const { return read_u8(buffer_, icmp_field::kCode); }
  std::uint16_t checksum() const { return read_be16(buffer_, icmp_field::kChecksum); }
  // Echo request/reply.
  std::uint16_t echo_ident() const { return read_be16(buffer_, icmp_field::kEchoIdent); }
  std::uint16_t echo_seq() const { return read_be16(buffer_, icmp_field::kEchoSeq); }
  // Destination unreachable, fragmentation needed (RFC 1191).
  std::uint16_t next_hop_mtu() const { return read_be16(buffer_, icmp_field::kNextHopMtu); }
  // Bytes 4-7, whatever the type makes of them.
  std::uint32_t rest_of_header() const { return read_be32(buffer_, icmp_field::kEchoIdent); }
  // Echo: the payload. Errors: the offending datagram's header and first bytes.
  Span data() const { return buffer_.subspan(kHeaderLen); }
  Span bytes() const { return buffer_; }
  bool verify_checksum() const { return checksum_valid(buffer_); }

  void set_type(std::uint8_t value) requires kIsMutable<Span> {
    write_u8(buffer_, icmp_field::kType, value);
  }
  void set_code(std::uint8_t value) requires kIsMutable<Span> {
    write_u8(buffer_, icmp_field::kCode, value);
  }
  void set_checksum(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, icmp_field::kChecksum, value);
  }
  void set_rest_of_header(std::uint32_t value) requires kIsMutable<Span> {
    write_be32(buffer_, icmp_field::kEchoIdent, value);
  }
  // Computes the checksum over the whole buffer.
  void fill_checksum() requires kIsMutable<Span> {
    set_checksum(0);
    set_checksum(internet_checksum(buffer_));
  }

  operator IcmpView<ConstBytes>() const requires kIsMutable<Span> {
    return IcmpView<ConstBytes>::unchecked(buffer_);
  }

 private:
  explicit IcmpView(Span buffer) : buffer_(buffer) {}
  Span buffer_;
};

struct IcmpRepr {
  enum class Kind : std::uint8_t {
    kEchoRequest,
    kEchoReply,
    kDestinationUnreachable,
    kTimeExceeded
  };

  Kind kind = Kind::kEchoRequest;
  std::uint8_t code = 0;
  std::uint16_t echo_ident = 0;    // echo only
  std::uint16_t echo_seq = 0;      // echo only
  std::uint16_t next_hop_mtu = 0;  // destination unreachable only
  // Borrowed from the parsed buffer (or the caller's); emit copies it.
  ConstBytes data;

  // nullopt for other types, codes out of range, or a bad checksum (ICMP is never offloaded).
  static std::optional<IcmpRepr> parse(const IcmpView<ConstBytes>& view);
  std::size_t buffer_len() const { return IcmpView<ConstBytes>::kHeaderLen + data.size(); }
  // Writes the message, data included, with its checksum.
  void emit(MutableBytes buffer) const;

  friend bool operator==(const IcmpRepr& a, const IcmpRepr& b);
};

}  // namespace nslab::ustack::packet
