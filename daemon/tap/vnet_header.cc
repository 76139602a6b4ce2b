#include "daemon/tap/vnet_header.h"

#include <cstdlib>

namespace nslab::tap {
namespace {

bool KnownGsoType(std::uint8_t gso_type) {
  const bool ecn = (gso_type & vnet_gso::kEcn) != 0;
  switch (gso_type & ~vnet_gso::kEcn) {
    case vnet_gso::kTcpV4:
    case vnet_gso::kTcpV6:
      return true;
    case vnet_gso::kNone:
    case vnet_gso::kUdp:
    case vnet_gso::kUdpL4:
      return !ecn;
    default:
      return false;
  }
}

// RFC 1071 one's-complement sum of 16-bit big-endian words, an odd last byte padded with zero.
std::uint32_t OnesComplementSum(ConstBytes bytes) {
  std::uint64_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    sum += std::to_integer<std::uint32_t>(bytes[i]) << 8 |
           std::to_integer<std::uint32_t>(bytes[i + 1]);
  }
  if (i < bytes.size()) {
    sum += std::to_integer<std::uint32_t>(bytes[i]) << 8;
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint32_t>(sum);
}

}  // namespace

std::optional<VnetHeaderRepr> VnetHeaderRepr::Parse(const VnetHeaderView<ConstBytes>& view) {
  if ((view.flags() & ~vnet_flag::kKnown) != 0 || !KnownGsoType(view.gso_type())) {
    return std::nullopt;
  }
  if (view.gso_type() != vnet_gso::kNone && view.gso_size() == 0) {
    return std::nullopt;
  }
  return VnetHeaderRepr{view.flags(),      view.gso_type(),    view.hdr_len(),    view.gso_size(),
                        view.csum_start(), view.csum_offset(), view.num_buffers()};
}

void VnetHeaderRepr::Emit(MutableBytes buffer) const {
  // Emitting past the buffer would be a bug in the caller, never in the data: stop here.
  if (buffer.size() < buffer_len()) {
    std::abort();
  }
  auto view = VnetHeaderView<MutableBytes>::Unchecked(buffer, size());
  view.set_flags(flags);
  view.set_gso_type(gso_type);
  view.set_hdr_len(hdr_len);
  view.set_gso_size(gso_size);
  view.set_csum_start(csum_start);
  view.set_csum_offset(csum_offset);
  if (num_buffers) {
    view.set_num_buffers(*num_buffers);
  }
}

bool CompleteChecksum(MutableBytes frame, std::uint16_t csum_start, std::uint16_t csum_offset) {
  if (!ChecksumFieldInFrame(frame.size(), csum_start, csum_offset)) {
    return false;
  }
  const std::size_t field = std::size_t{csum_start} + csum_offset;
  auto checksum = static_cast<std::uint16_t>(~OnesComplementSum(frame.subspan(csum_start)));
  // As the kernel's skb_checksum_help: a sum of zero goes out as 0xffff, the same value in
  // one's complement, because UDP reads zero as "no checksum".
  if (checksum == 0) {
    checksum = 0xffff;
  }
  frame[field] = std::byte{static_cast<std::uint8_t>(checksum >> 8)};
  frame[field + 1] = std::byte{static_cast<std::uint8_t>(checksum)};
  return true;
}

}  // namespace nslab::tap
