#pragma once

// struct virtio_net_hdr (virtio 1.x 5.1.6), the header a TAP with IFF_VNET_HDR puts before each
// frame. Little-endian. 10 bytes, or 12 with num_buffers (VIRTIO_NET_F_MRG_RXBUF or
// VIRTIO_F_VERSION_1); the TAP's TUNSETVNETHDRSZ decides which, so the caller says.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::packet {

namespace virtio_net_flag {
inline constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr std::uint8_t kRscInfo = 4;    // VIRTIO_NET_HDR_F_RSC_INFO
inline constexpr std::uint8_t kKnown = kNeedsCsum | kDataValid | kRscInfo;
}  // namespace virtio_net_flag

namespace virtio_net_gso {
inline constexpr std::uint8_t kNone = 0;
inline constexpr std::uint8_t kTcpV4 = 1;
inline constexpr std::uint8_t kUdp = 3;
inline constexpr std::uint8_t kTcpV6 = 4;
inline constexpr std::uint8_t kUdpL4 = 5;
inline constexpr std::uint8_t kEcn = 0x80;  // ORed into the TCP types
}  // namespace virtio_net_gso

namespace virtio_net_field {
inline constexpr std::size_t kFlags = 0;
inline constexpr std::size_t kGsoType = 1;
inline constexpr std::size_t kHdrLen = 2;
inline constexpr std::size_t kGsoSize = 4;
inline constexpr std::size_t kCsumStart = 6;
inline constexpr std::size_t kCsumOffset = 8;
inline constexpr std::size_t kNumBuffers = 10;
}  // namespace virtio_net_field

enum class VirtioNetHdrSize : std::uint8_t {
  kBasic = 10,
  kWithNumBuffers = 12,
};

template <ByteSpan Span>
class VirtioNetHdrView {
 public:
  static std::optional<VirtioNetHdrView> checked(Span buffer, VirtioNetHdrSize size) {
    if (buffer.size() < static_cast<std::size_t>(size)) {
      return std::nullopt;
    }
    return VirtioNetHdrView(buffer, size);
  }
  static VirtioNetHdrView unchecked(Span buffer, VirtioNetHdrSize size) {
    return VirtioNetHdrView(buffer, size);
  }

  std::size_t header_len() const { return static_cast<std::size_t>(size_); }
  VirtioNetHdrSize size() const { return size_; }
  std::uint8_t flags() const { return read_u8(buffer_, virtio_net_field::kFlags); }
  std::uint8_t gso_type() const { return read_u8(buffer_, virtio_net_field::kGsoType); }
  std::uint16_t hdr_len() const { return read_le16(buffer_, virtio_net_field::kHdrLen); }
  std::uint16_t gso_size() const { return read_le16(buffer_, virtio_net_field::kGsoSize); }
  std::uint16_t csum_start() const { return read_le16(buffer_, virtio_net_field::kCsumStart); }
  std::uint16_t csum_offset() const { return read_le16(buffer_, virtio_net_field::kCsumOffset); }
  // Only in the 12-byte header.
  std::optional<std::uint16_t> num_buffers() const {
    if (size_ != VirtioNetHdrSize::kWithNumBuffers) {
      return std::nullopt;
    }
    return read_le16(buffer_, virtio_net_field::kNumBuffers);
  }
  // The frame after the header.
  Span payload() const { return buffer_.subspan(header_len()); }

  void set_flags(std::uint8_t value) requires kIsMutable<Span> {
    write_u8(buffer_, virtio_net_field::kFlags, value);
  }
  void set_gso_type(std::uint8_t value) requires kIsMutable<Span> {
    write_u8(buffer_, virtio_net_field::kGsoType, value);
  }
  void set_hdr_len(std::uint16_t value) requires kIsMutable<Span> {
    write_le16(buffer_, virtio_net_field::kHdrLen, value);
  }
  void set_gso_size(std::uint16_t value) requires kIsMutable<Span> {
    write_le16(buffer_, virtio_net_field::kGsoSize, value);
  }
  void set_csum_start(std::uint16_t value) requires kIsMutable<Span> {
    write_le16(buffer_, virtio_net_field::kCsumStart, value);
  }
  void set_csum_offset(std::uint16_t value) requires kIsMutable<Span> {
    write_le16(buffer_, virtio_net_field::kCsumOffset, value);
  }
  // Ignored for the 10-byte header.
  void set_num_buffers(std::uint16_t value) requires kIsMutable<Span> {
    if (size_ == VirtioNetHdrSize::kWithNumBuffers) {
      write_le16(buffer_, virtio_net_field::kNumBuffers, value);
    }
  }

  operator VirtioNetHdrView<ConstBytes>() const requires kIsMutable<Span> {
    return VirtioNetHdrView<ConstBytes>::unchecked(buffer_, size_);
  }

 private:
  VirtioNetHdrView(Span buffer, VirtioNetHdrSize size) : buffer_(buffer), size_(size) {}
  Span buffer_;
  VirtioNetHdrSize size_;
};

struct VirtioNetHdrRepr {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = virtio_net_gso::kNone;
  std::uint16_t hdr_len = 0;
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;
  std::optional<std::uint16_t> num_buffers;  // present exactly in the 12-byte header

  // nullopt for unknown flag bits, an unknown GSO type, or GSO with gso_size 0.
  static std::optional<VirtioNetHdrRepr> parse(const VirtioNetHdrView<ConstBytes>& view);
  VirtioNetHdrSize size() const {
    return num_buffers ? VirtioNetHdrSize::kWithNumBuffers : VirtioNetHdrSize::kBasic;
  }
  std::size_t buffer_len() const { return static_cast<std::size_t>(size()); }
  void emit(MutableBytes buffer) const;

  // With NEEDS_CSUM: whether the checksum field at csum_start + csum_offset lies inside a frame
  // of `frame_len` bytes. Check it before acting on the offsets.
  bool checksum_in_bounds(std::size_t frame_len) const {
    return std::size_t{csum_start} + csum_offset + 2 <= frame_len;
  }

  friend bool operator==(const VirtioNetHdrRepr&, const VirtioNetHdrRepr&) = default;
};

}  // namespace nslab::ustack::packet
