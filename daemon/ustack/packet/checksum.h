#pragma once

// The Internet checksum (RFC 1071) and its incremental update (RFC 1624). Sums are 16-bit
// ones' complement sums of big-endian words, folded; a checksum field holds the complement of
// the sum, and data with a correct checksum field sums to 0xffff.

#include <cstdint>

#include "daemon/ustack/packet/bytes.h"
#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::packet {

// How a transport Repr treats its checksum. A frame from a TAP with IFF_VNET_HDR may say the
// kernel vouched for it (DATA_VALID) or will finish it (NEEDS_CSUM); the frame's
// virtio_net_hdr decides, per frame.
enum class Checksum : std::uint8_t {
  kCompute,  // parse verifies it; emit writes the full checksum
  kOffload,  // parse trusts it; emit writes the pseudo-header sum that a NEEDS_CSUM device
             // completes from csum_start
};

// Ones' complement sum of `data` (an odd last byte is padded with zero) added to `initial`.
// Only the last chunk of a multi-part sum may have odd length.
std::uint16_t ones_complement_sum(ConstBytes data, std::uint16_t initial = 0);

constexpr std::uint16_t ones_complement_add(std::uint16_t a, std::uint16_t b) {
  const std::uint32_t sum = std::uint32_t{a} + b;
  return static_cast<std::uint16_t>((sum & 0xffff) + (sum >> 16));
}

// The checksum field value for `data` (whose own checksum field is zero).
inline std::uint16_t internet_checksum(ConstBytes data) {
  return static_cast<std::uint16_t>(~ones_complement_sum(data));
}

// True when `data`, checksum field included, sums to 0xffff.
inline bool checksum_valid(ConstBytes data) { return ones_complement_sum(data) == 0xffff; }

// The sum of the IPv4 pseudo-header of a TCP or UDP segment of `length` bytes.
std::uint16_t pseudo_header_sum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                std::uint16_t length);

// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changed from
// `old_word` to `new_word` (a port rewrite; call twice for an address).
constexpr std::uint16_t checksum_update(std::uint16_t checksum, std::uint16_t old_word,
                                        std::uint16_t new_word) {
  std::uint16_t sum = ones_complement_add(static_cast<std::uint16_t>(~checksum),
                                          static_cast<std::uint16_t>(~old_word));
  sum = ones_complement_add(sum, new_word);
  return static_cast<std::uint16_t>(~sum);
}

// The same for a 32-bit field such as an address.
constexpr std::uint16_t checksum_update32(std::uint16_t checksum, std::uint32_t old_value,
                                          std::uint32_t new_value) {
  checksum = checksum_update(checksum, static_cast<std::uint16_t>(old_value >> 16),
                             static_cast<std::uint16_t>(new_value >> 16));
  return checksum_update(checksum, static_cast<std::uint16_t>(old_value),
                         static_cast<std::uint16_t>(new_value));
}

}  // namespace nslab::ustack::packet
