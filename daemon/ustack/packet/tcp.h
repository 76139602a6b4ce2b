#pragma once

// TCP segments (RFC 9293) over IPv4: header, options, pseudo-header checksum.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/checksum.h"
#include "daemon/ustack/packet/ip_protocol.h"
#include "daemon/ustack/packet/ipv4_address.h"
#include "daemon/ustack/packet/tcp_options.h"

namespace nslab::ustack::packet {

// The low 12 bits of header bytes 12-13: three reserved bits, AE (formerly NS), and the eight
// classic flags.
namespace tcp_flag {
inline constexpr std::uint16_t kFin = 0x001;
inline constexpr std::uint16_t kSyn = 0x002;
inline constexpr std::uint16_t kRst = 0x004;
inline constexpr std::uint16_t kPsh = 0x008;
inline constexpr std::uint16_t kAck = 0x010;
inline constexpr std::uint16_t kUrg = 0x020;
inline constexpr std::uint16_t kEce = 0x040;
inline constexpr std::uint16_t kCwr = 0x080;
inline constexpr std::uint16_t kAe = 0x100;
inline constexpr std::uint16_t kMask = 0xfff;
}  // namespace tcp_flag

namespace tcp_field {
inline constexpr std::size_t kSourcePort = 0;
inline constexpr std::size_t kDestinationPort = 2;
inline constexpr std::size_t kSeqNumber = 4;
inline constexpr std::size_t kAckNumber = 8;
inline constexpr std::size_t kOffsetFlags = 12;
inline constexpr std::size_t kWindow = 14;
inline constexpr std::size_t kChecksum = 16;
inline constexpr std::size_t kUrgent = 18;
inline constexpr std::size_t kOptions = 20;
}  // namespace tcp_field

template <ByteSpan Span>
class TcpView {
 public:
  static constexpr std::size_t kMinHeaderLen = tcp_field::kOptions;
  static constexpr std::size_t kMaxHeaderLen = 60;

  // The segment is the whole buffer (the IPv4 payload). Checks 20 <= header_len() <= size.
  static std::optional<TcpView> checked(Span buffer) {
    if (buffer.size() < kMinHeaderLen) {
      return std::nullopt;
    }
    TcpView view(buffer);
    if (view.header_len() < kMinHeaderLen || view.header_len() > buffer.size()) {
      return std::nullopt;
    }
    return view;
  }
  static TcpView unchecked(Span buffer) { return TcpView(buffer); }

  std::uint16_t source_port() const { return read_be16(buffer_, tcp_field::kSourcePort); }
  std::uint16_t destination_port() const { return read_be16(buffer_, tcp_field::kDestinationPort); }
  std::uint32_t seq_number() const { return read_be32(buffer_, tcp_field::kSeqNumber); }
  std::uint32_t ack_number() const { return read_be32(buffer_, tcp_field::kAckNumber); }
  std::size_t header_len() const { return (read_u8(buffer_, tcp_field::kOffsetFlags) >> 4) * 4u; }
  std::uint16_t flags() const {
    return read_be16(buffer_, tcp_field::kOffsetFlags) & tcp_flag::kMask;
  }
  bool has_flag(std::uint16_t flag) const { return (flags() & flag) != 0; }
  std::uint16_t window_len() const { return read_be16(buffer_, tcp_field::kWindow); }
  std::uint16_t checksum() const { return read_be16(buffer_, tcp_field::kChecksum); }
  std::uint16_t urgent_pointer() const { return read_be16(buffer_, tcp_field::kUrgent); }
  Span options() const { return buffer_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen); }
  Span payload() const { return buffer_.subspan(header_len()); }
  Span bytes() const { return buffer_; }
  // Segments longer than 65535 cannot come out of IPv4; such a buffer fails.
  bool verify_checksum(Ipv4Address source, Ipv4Address destination) const {
    if (buffer_.size() > 0xffff) {
      return false;
    }
    const std::uint16_t pseudo = pseudo_header_sum(source, destination, ip_protocol::kTcp,
                                                   static_cast<std::uint16_t>(buffer_.size()));
    return ones_complement_sum(buffer_, pseudo) == 0xffff;
  }

  void set_source_port(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, tcp_field::kSourcePort, value);
  }
  void set_destination_port(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, tcp_field::kDestinationPort, value);
  }
  void set_seq_number(std::uint32_t value) requires kIsMutable<Span> {
    write_be32(buffer_, tcp_field::kSeqNumber, value);
  }
  void set_ack_number(std::uint32_t value) requires kIsMutable<Span> {
    write_be32(buffer_, tcp_field::kAckNumber, value);
  }
  void set_header_len_and_flags(std::size_t header_len,
                                std::uint16_t flags) requires kIsMutable<Span> {
    write_be16(buffer_, tcp_field::kOffsetFlags,
               static_cast<std::uint16_t>(header_len / 4 << 12 | (flags & tcp_flag::kMask)));
  }
  void set_window_len(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, tcp_field::kWindow, value);
  }
  void set_checksum(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, tcp_field::kChecksum, value);
  }
  void set_urgent_pointer(std::uint16_t value) requires kIsMutable<Span> {
    write_be16(buffer_, tcp_field::kUrgent, value);
  }
  // Over the whole buffer; header and payload must be in place. kOffload leaves the
  // pseudo-header sum for a NEEDS_CSUM device (csum_offset 16).
  void fill_checksum(Ipv4Address source, Ipv4Address destination,
                     Checksum mode = Checksum::kCompute) requires kIsMutable<Span> {
    const std::uint16_t pseudo = pseudo_header_sum(source, destination, ip_protocol::kTcp,
                                                   static_cast<std::uint16_t>(buffer_.size()));
    if (mode == Checksum::kOffload) {
      set_checksum(pseudo);
      return;
    }
    set_checksum(0);
    set_checksum(static_cast<std::uint16_t>(~ones_complement_sum(buffer_, pseudo)));
  }

  operator TcpView<ConstBytes>() const requires kIsMutable<Span> {
    return TcpView<ConstBytes>::unchecked(buffer_);
  }

 private:
  explicit TcpView(Span buffer) : buffer_(buffer) {}
  Span buffer_;
};

struct TcpSackBlock {
  std::uint32_t left = 0;
  std::uint32_t right = 0;
  friend bool operator==(const TcpSackBlock&, const TcpSackBlock&) = default;
};

struct TcpTimestamps {
  std::uint32_t value = 0;
  std::uint32_t echo_reply = 0;
  friend bool operator==(const TcpTimestamps&, const TcpTimestamps&) = default;
};

struct TcpRepr {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq_number = 0;
  std::uint32_t ack_number = 0;  // kept as sent, meaningful with tcp_flag::kAck
  std::uint16_t flags = 0;       // tcp_flag bits
  std::uint16_t window_len = 0;  // as on the wire, before window scaling
  std::uint16_t urgent_pointer = 0;
  std::optional<std::uint16_t> max_segment_size;
  std::optional<std::uint8_t> window_scale;  // as sent; RFC 7323 caps its use at 14
  bool sack_permitted = false;
  std::optional<TcpTimestamps> timestamps;
  std::array<TcpSackBlock, tcp_option::kMaxSackBlocks> sack_blocks{};
  std::uint8_t sack_block_count = 0;
  // Borrowed from the parsed buffer (or the caller's); emit copies it.
  ConstBytes payload;

  // nullopt for a zero port, malformed options, or (with kCompute) a bad checksum. Unknown
  // options are skipped; of a repeated option the last counts.
  static std::optional<TcpRepr> parse(const TcpView<ConstBytes>& view, Ipv4Address source,
                                      Ipv4Address destination, Checksum mode = Checksum::kCompute);

  std::span<const TcpSackBlock> sacks() const {
    return {sack_blocks.data(), std::min<std::size_t>(sack_block_count, sack_blocks.size())};
  }
  // Options are laid out as Linux's tcp_options_write() does (MSS; SACK-permitted folded into
  // the timestamps word; NOP-aligned window scale and SACK), so Linux segments re-emit byte for
  // byte; when that exceeds 40 bytes they are packed without NOPs, and SACK blocks that still
  // do not fit are left out.
  std::size_t header_len() const;
  std::size_t buffer_len() const { return header_len() + payload.size(); }
  void emit(MutableBytes buffer, Ipv4Address source, Ipv4Address destination,
            Checksum mode = Checksum::kCompute) const;

  friend bool operator==(const TcpRepr& a, const TcpRepr& b);
};

}  // namespace nslab::ustack::packet
