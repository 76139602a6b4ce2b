#pragma once

// struct virtio_net_hdr (virtio 1.x 5.1.6), the header a TAP opened with IFF_VNET_HDR puts
// before every frame it hands over and expects before every frame it is given. Little-endian.
// 10 bytes, or 12 with num_buffers (VIRTIO_NET_F_MRG_RXBUF or VIRTIO_F_VERSION_1); the TAP's
// TUNSETVNETHDRSZ decides which, so the caller says.
//
// The values are those of <linux/virtio_net.h>, which does not compile as C++ (a field named
// `class`). Views and Reprs never allocate: the ustack parses and emits one per frame.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace nslab::tap {

using ConstBytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

// A view is over read-only bytes (getters) or writable ones (getters and setters).
template <typename Span>
concept VnetHeaderSpan = std::same_as<Span, ConstBytes> || std::same_as<Span, MutableBytes>;

template <VnetHeaderSpan Span>
inline constexpr bool kIsMutable = std::same_as<Span, MutableBytes>;

namespace vnet_flag {
inline constexpr std::uint8_t kNeedsChecksum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kDataValid = 2;      // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr std::uint8_t kRscInfo = 4;        // VIRTIO_NET_HDR_F_RSC_INFO
inline constexpr std::uint8_t kKnown = kNeedsChecksum | kDataValid | kRscInfo;
}  // namespace vnet_flag

namespace vnet_gso {
inline constexpr std::uint8_t kNone = 0;
inline constexpr std::uint8_t kTcpV4 = 1;
inline constexpr std::uint8_t kUdp = 3;
inline constexpr std::uint8_t kTcpV6 = 4;
inline constexpr std::uint8_t kUdpL4 = 5;
inline constexpr std::uint8_t kEcn = 0x80;  // ORed into the TCP types
}  // namespace vnet_gso

// Byte offsets of the fields.
namespace vnet_field {
inline constexpr std::size_t kFlags = 0;
inline constexpr std::size_t kGsoType = 1;
inline constexpr std::size_t kHdrLen = 2;
inline constexpr std::size_t kGsoSize = 4;
inline constexpr std::size_t kCsumStart = 6;
inline constexpr std::size_t kCsumOffset = 8;
inline constexpr std::size_t kNumBuffers = 10;
}  // namespace vnet_field

enum class VnetHeaderSize : std::uint8_t {
  kBasic = 10,
  kWithNumBuffers = 12,
};

// With NEEDS_CSUM: whether the checksum field at csum_start + csum_offset lies inside a frame
// of `frame_length` bytes. Check it before acting on the offsets.
constexpr bool ChecksumFieldInFrame(std::size_t frame_length, std::uint16_t csum_start,
                                    std::uint16_t csum_offset) {
  return std::size_t{csum_start} + csum_offset + 2 <= frame_length;
}

// Does in software what a NIC with checksum offload does for a NEEDS_CSUM frame: sums `frame`
// (from its Ethernet header on, without the virtio-net header) from csum_start on, the field
// holding the pseudo-header sum, and stores the result at csum_start + csum_offset. After this
// the frame carries a complete checksum, so a corrupted bit is caught by the receiver as it
// would be on a real link. False (frame untouched) when the offsets do not fit the frame.
bool CompleteChecksum(MutableBytes frame, std::uint16_t csum_start, std::uint16_t csum_offset);

// The raw fields, unvalidated: what the kernel wrote, as it wrote it.
template <VnetHeaderSpan Span>
class VnetHeaderView {
 public:
  static std::optional<VnetHeaderView> Checked(Span buffer, VnetHeaderSize size) {
    if (buffer.size() < static_cast<std::size_t>(size)) {
      return std::nullopt;
    }
    return VnetHeaderView(buffer, size);
  }
  static VnetHeaderView Unchecked(Span buffer, VnetHeaderSize size) {
    return VnetHeaderView(buffer, size);
  }

  VnetHeaderSize size() const { return size_; }
  std::uint8_t flags() const { return ReadU8(vnet_field::kFlags); }
  std::uint8_t gso_type() const { return ReadU8(vnet_field::kGsoType); }
  std::uint16_t hdr_len() const { return ReadLe16(vnet_field::kHdrLen); }
  std::uint16_t gso_size() const { return ReadLe16(vnet_field::kGsoSize); }
  std::uint16_t csum_start() const { return ReadLe16(vnet_field::kCsumStart); }
  std::uint16_t csum_offset() const { return ReadLe16(vnet_field::kCsumOffset); }
  // Only in the 12-byte header.
  std::optional<std::uint16_t> num_buffers() const {
    if (size_ != VnetHeaderSize::kWithNumBuffers) {
      return std::nullopt;
    }
    return ReadLe16(vnet_field::kNumBuffers);
  }
  // The frame after the header.
  Span payload() const { return buffer_.subspan(static_cast<std::size_t>(size_)); }

  // VIRTIO_NET_HDR_F_NEEDS_CSUM: the TCP/UDP checksum is only the pseudo-header sum; whoever
  // delivers the frame must complete it from csum_start on (CompleteChecksum).
  bool needs_checksum() const { return (flags() & vnet_flag::kNeedsChecksum) != 0; }
  // A TSO/GSO super-frame that the kernel would cut into segments of gso_size payload bytes on
  // a device without offloads.
  bool is_gso() const { return (gso_type() & ~vnet_gso::kEcn) != vnet_gso::kNone; }

  void set_flags(std::uint8_t value) requires kIsMutable<Span> {
    WriteU8(vnet_field::kFlags, value);
  }
  void set_gso_type(std::uint8_t value) requires kIsMutable<Span> {
    WriteU8(vnet_field::kGsoType, value);
  }
  void set_hdr_len(std::uint16_t value) requires kIsMutable<Span> {
    WriteLe16(vnet_field::kHdrLen, value);
  }
  void set_gso_size(std::uint16_t value) requires kIsMutable<Span> {
    WriteLe16(vnet_field::kGsoSize, value);
  }
  void set_csum_start(std::uint16_t value) requires kIsMutable<Span> {
    WriteLe16(vnet_field::kCsumStart, value);
  }
  void set_csum_offset(std::uint16_t value) requires kIsMutable<Span> {
    WriteLe16(vnet_field::kCsumOffset, value);
  }
  // Ignored for the 10-byte header.
  void set_num_buffers(std::uint16_t value) requires kIsMutable<Span> {
    if (size_ == VnetHeaderSize::kWithNumBuffers) {
      WriteLe16(vnet_field::kNumBuffers, value);
    }
  }

  operator VnetHeaderView<ConstBytes>() const requires kIsMutable<Span> {
    return VnetHeaderView<ConstBytes>::Unchecked(buffer_, size_);
  }

 private:
  VnetHeaderView(Span buffer, VnetHeaderSize size) : buffer_(buffer), size_(size) {}

  std::uint8_t ReadU8(std::size_t at) const { return std::to_integer<std::uint8_t>(buffer_[at]); }
  std::uint16_t ReadLe16(std::size_t at) const {
    return static_cast<std::uint16_t>(ReadU8(at + 1) << 8 | ReadU8(at));
  }
  void WriteU8(std::size_t at, std::uint8_t value) const { buffer_[at] = std::byte{value}; }
  void WriteLe16(std::size_t at, std::uint16_t value) const {
    WriteU8(at, static_cast<std::uint8_t>(value));
    WriteU8(at + 1, static_cast<std::uint8_t>(value >> 8));
  }

  Span buffer_;
  VnetHeaderSize size_;
};

// The fields as values, validated: what a driver acts on and what it emits.
struct VnetHeaderRepr {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = vnet_gso::kNone;
  std::uint16_t hdr_len = 0;
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;
  std::optional<std::uint16_t> num_buffers;  // present exactly in the 12-byte header

  // nullopt for unknown flag bits, an unknown GSO type, or GSO with gso_size 0.
  static std::optional<VnetHeaderRepr> Parse(const VnetHeaderView<ConstBytes>& view);
  VnetHeaderSize size() const {
    return num_buffers ? VnetHeaderSize::kWithNumBuffers : VnetHeaderSize::kBasic;
  }
  std::size_t buffer_len() const { return static_cast<std::size_t>(size()); }
  // Writes buffer_len() bytes; a shorter buffer is a bug in the caller and aborts.
  void Emit(MutableBytes buffer) const;

  bool ChecksumInBounds(std::size_t frame_length) const {
    return ChecksumFieldInFrame(frame_length, csum_start, csum_offset);
  }

  friend bool operator==(const VnetHeaderRepr&, const VnetHeaderRepr&) = default;
};

}  // namespace nslab::tap
