#include "daemon/ustack/packet/checksum.h"

#include <bit>
#include <cstring>

namespace nslab::ustack::packet {
namespace {

// Adds with the end-around carry; 2^64 = 1 modulo 0xffff, so a 64-bit accumulator folds to the
// same 16-bit sum.
inline std::uint64_t add_carry(std::uint64_t acc, std::uint64_t value) {
  acc += value;
  return acc + (acc < value ? 1 : 0);
}

template <typename T>
inline T load_native(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

}  // namespace

std::uint16_t ones_complement_sum(ConstBytes data, std::uint16_t initial) {
  // Summing native-order words and swapping the folded result gives the big-endian-word sum
  // (RFC 1071, "byte order independence"); it lets the loop add 8 bytes at a time.
  const std::byte* p = data.data();
  std::size_t n = data.size();
  std::uint64_t acc = 0;
  while (n >= 32) {
    acc = add_carry(acc, load_native<std::uint64_t>(p));
    acc = add_carry(acc, load_native<std::uint64_t>(p + 8));
    acc = add_carry(acc, load_native<std::uint64_t>(p + 16));
    acc = add_carry(acc, load_native<std::uint64_t>(p + 24));
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    acc = add_carry(acc, load_native<std::uint64_t>(p));
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    acc = add_carry(acc, load_native<std::uint32_t>(p));
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc = add_carry(acc, load_native<std::uint16_t>(p));
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    const std::uint64_t last = std::to_integer<std::uint8_t>(*p);
    acc = add_carry(acc, std::endian::native == std::endian::little ? last : last << 8);
  }
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  auto sum = static_cast<std::uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little) {
    sum = static_cast<std::uint16_t>(sum << 8 | sum >> 8);
  }
  return ones_complement_add(sum, initial);
}

std::uint16_t pseudo_header_sum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                std::uint16_t length) {
  std::uint16_t sum = 0;
  for (const Ipv4Address& address : {src, dst}) {
    const std::uint32_t value = address.to_u32();
    sum = ones_complement_add(sum, static_cast<std::uint16_t>(value >> 16));
    sum = ones_complement_add(sum, static_cast<std::uint16_t>(value));
  }
  sum = ones_complement_add(sum, protocol);
  return ones_complement_add(sum, length);
}

}  // namespace nslab::ustack::packet
