#pragma once

// Field access for the packet views: explicit big-endian (network) and little-endian (virtio)
// loads and stores at byte offsets. No bounds checks here: a view checks its lengths once in
// checked() and then reads only inside them.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

namespace nslab::ustack::packet {

using ConstBytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

// The two spans a view may be over: read-only (getters) or writable (getters and setters).
template <typename Span>
concept ByteSpan = std::same_as<Span, ConstBytes> || std::same_as<Span, MutableBytes>;

template <ByteSpan Span>
inline constexpr bool kIsMutable = std::same_as<Span, MutableBytes>;

inline std::uint8_t read_u8(ConstBytes b, std::size_t at) {
  return std::to_integer<std::uint8_t>(b[at]);
}

inline std::uint16_t read_be16(ConstBytes b, std::size_t at) {
  return static_cast<std::uint16_t>(read_u8(b, at) << 8 | read_u8(b, at + 1));
}

inline std::uint32_t read_be32(ConstBytes b, std::size_t at) {
  return std::uint32_t{read_be16(b, at)} << 16 | read_be16(b, at + 2);
}

inline std::uint16_t read_le16(ConstBytes b, std::size_t at) {
  return static_cast<std::uint16_t>(read_u8(b, at + 1) << 8 | read_u8(b, at));
}

inline void write_u8(MutableBytes b, std::size_t at, std::uint8_t value) {
  b[at] = std::byte{value};
}

inline void write_be16(MutableBytes b, std::size_t at, std::uint16_t value) {
  write_u8(b, at, static_cast<std::uint8_t>(value >> 8));
  write_u8(b, at + 1, static_cast<std::uint8_t>(value));
}

inline void write_be32(MutableBytes b, std::size_t at, std::uint32_t value) {
  write_be16(b, at, static_cast<std::uint16_t>(value >> 16));
  write_be16(b, at + 2, static_cast<std::uint16_t>(value));
}

inline void write_le16(MutableBytes b, std::size_t at, std::uint16_t value) {
  write_u8(b, at, static_cast<std::uint8_t>(value));
  write_u8(b, at + 1, static_cast<std::uint8_t>(value >> 8));
}

}  // namespace nslab::ustack::packet
