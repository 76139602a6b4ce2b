#include "daemon/wire/vnet_header.h"

namespace nslab::wire {
namespace {

uint16_t ReadLe16(std::span<const std::byte> bytes, size_t at) {
  return static_cast<uint16_t>(std::to_integer<uint16_t>(bytes[at]) |
                               std::to_integer<uint16_t>(bytes[at + 1]) << 8);
}

// RFC 1071 one's-complement sum of 16-bit big-endian words, an odd last byte padded with zero.
uint32_t OnesComplementSum(std::span<const std::byte> bytes) {
  uint64_t sum = 0;
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    sum += std::to_integer<uint32_t>(bytes[i]) << 8 | std::to_integer<uint32_t>(bytes[i + 1]);
  }
  if (i < bytes.size()) {
    sum += std::to_integer<uint32_t>(bytes[i]) << 8;
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint32_t>(sum);
}

}  // namespace

std::optional<VnetHeader> ParseVnetHeader(std::span<const std::byte> bytes) {
  if (bytes.size() < kVnetHeaderBytes) {
    return std::nullopt;
  }
  VnetHeader header;
  const uint8_t flags = std::to_integer<uint8_t>(bytes[0]);
  header.needs_checksum = (flags & kVnetNeedsChecksum) != 0;
  header.gso_type = static_cast<uint8_t>(std::to_integer<uint8_t>(bytes[1]) & ~kVnetGsoEcn);
  header.header_length = ReadLe16(bytes, 2);
  header.gso_size = ReadLe16(bytes, 4);
  header.checksum_start = ReadLe16(bytes, 6);
  header.checksum_offset = ReadLe16(bytes, 8);
  return header;
}

bool CompleteChecksum(std::span<std::byte> frame, const VnetHeader& header) {
  const size_t start = header.checksum_start;
  const size_t field = start + header.checksum_offset;
  if (start >= frame.size() || field + 2 > frame.size()) {
    return false;
  }
  uint16_t checksum = static_cast<uint16_t>(~OnesComplementSum(frame.subspan(start)));
  // As the kernel's skb_checksum_help: a sum of zero goes out as 0xffff, the same value in
  // one's complement, because UDP reads zero as "no checksum".
  if (checksum == 0) {
    checksum = 0xffff;
  }
  frame[field] = std::byte{static_cast<uint8_t>(checksum >> 8)};
  frame[field + 1] = std::byte{static_cast<uint8_t>(checksum)};
  return true;
}

}  // namespace nslab::wire
