#include "daemon/impair/flow_class.h"

#include <bit>
#include <cstring>

#include "daemon/impair/rng.h"

namespace nslab::impair {
namespace {

using Bytes = std::span<const std::byte>;

constexpr size_t kMacHeaderBytes = 12;  // destination and source MAC, before the ethertype
constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
constexpr uint16_t kFirstEthertype = 0x0600;  // below: an 802.3 length
// QinQ stacks two tags; a frame with more is classed by the third tag's TPID.
constexpr int kMaxVlanTags = 2;
// Bounds the walk over IPv6 extension headers; a longer chain is classed by the header met.
constexpr int kMaxExtensionHeaders = 8;

constexpr uint8_t kIcmp = 1;
constexpr uint8_t kIcmpv6 = 58;
constexpr uint8_t kHopByHop = 0;
constexpr uint8_t kRouting = 43;
constexpr uint8_t kFragment = 44;
constexpr uint8_t kDestinationOptions = 60;

uint8_t At(Bytes bytes, size_t at) { return static_cast<uint8_t>(bytes[at]); }

// Big-endian 16 bits at `at`; the caller has checked that at + 2 <= size.
uint16_t Load16(Bytes bytes, size_t at) {
  return static_cast<uint16_t>(At(bytes, at) << 8 | At(bytes, at + 1));
}

bool IsVlanTpid(uint16_t type) { return type == 0x8100 || type == 0x88a8 || type == 0x9100; }

bool HasPorts(uint8_t protocol) {
  switch (protocol) {
    case 6:    // TCP
    case 17:   // UDP
    case 33:   // DCCP
    case 132:  // SCTP
    case 136:  // UDP-Lite
      return true;
    default:
      return false;
  }
}

// The destination port, or the ICMP type, from the start of an unfragmented transport header.
uint16_t Selector(Bytes l4, uint8_t protocol, uint8_t icmp) {
  if (protocol == icmp) {
    return l4.empty() ? 0 : At(l4, 0);
  }
  if (HasPorts(protocol) && l4.size() >= 4) {
    return Load16(l4, 2);
  }
  return 0;
}

// The caller has checked that at + length <= size.
void CopyAddress(Bytes from, size_t at, size_t length, std::array<uint8_t, 16>& to) {
  std::memcpy(to.data(), from.data() + at, length);
}

// Little-endian on every host, so that keys are the same everywhere.
uint64_t LoadLittleEndian64(const uint8_t* bytes) {
  uint64_t value;
  std::memcpy(&value, bytes, sizeof(value));
  if constexpr (std::endian::native == std::endian::big) {
    value = __builtin_bswap64(value);
  }
  return value;
}

void ParseIpv4(Bytes packet, FlowClass& flow) {
  constexpr size_t kMinHeader = 20;
  if (packet.size() < kMinHeader || At(packet, 0) >> 4 != 4) {
    return;
  }
  const size_t header = static_cast<size_t>(At(packet, 0) & 0x0f) * 4;
  if (header < kMinHeader || header > packet.size()) {
    return;
  }
  flow.ip_version = 4;
  flow.protocol = At(packet, 9);
  CopyAddress(packet, 12, 4, flow.source);
  CopyAddress(packet, 16, 4, flow.destination);
  const bool fragment = (Load16(packet, 6) & 0x3fff) != 0;  // more fragments, or an offset
  if (!fragment) {
    flow.selector = Selector(packet.subspan(header), flow.protocol, kIcmp);
  }
}

void ParseIpv6(Bytes packet, FlowClass& flow) {
  constexpr size_t kHeader = 40;
  if (packet.size() < kHeader || At(packet, 0) >> 4 != 6) {
    return;
  }
  flow.ip_version = 6;
  CopyAddress(packet, 8, 16, flow.source);
  CopyAddress(packet, 24, 16, flow.destination);
  uint8_t next = At(packet, 6);
  size_t at = kHeader;
  for (int walked = 0; walked < kMaxExtensionHeaders; ++walked) {
    if (next != kHopByHop && next != kRouting && next != kDestinationOptions && next != kFragment) {
      flow.protocol = next;
      flow.selector = Selector(packet.subspan(at), next, kIcmpv6);
      return;
    }
    if (packet.size() - at < 8) {  // every extension header is at least 8 bytes
      break;
    }
    const uint8_t inner = At(packet, at);
    if (next == kFragment) {
      flow.protocol = inner;
      return;
    }
    const size_t length = (static_cast<size_t>(At(packet, at + 1)) + 1) * 8;
    if (length > packet.size() - at) {
      break;
    }
    next = inner;
    at += length;
  }
  // Cut short, or too long a chain: the header reached is what there is to go by.
  flow.protocol = next;
}

}  // namespace

FlowClass ClassifyFrame(Bytes frame) {
  FlowClass flow;
  size_t at = kMacHeaderBytes;
  if (frame.size() < at + 2) {
    return flow;
  }
  uint16_t type = Load16(frame, at);
  for (int tags = 0; tags < kMaxVlanTags && IsVlanTpid(type) && frame.size() >= at + 6; ++tags) {
    at += 4;
    type = Load16(frame, at);
  }
  flow.ethertype = type < kFirstEthertype ? 0 : type;
  const Bytes payload = frame.subspan(at + 2);
  if (type == kEthertypeIpv4) {
    ParseIpv4(payload, flow);
  } else if (type == kEthertypeIpv6) {
    ParseIpv6(payload, flow);
  }
  return flow;
}

uint64_t FlowClassKey(const FlowClass& flow) {
  const uint64_t words[] = {
      static_cast<uint64_t>(flow.ethertype) | static_cast<uint64_t>(flow.ip_version) << 16 |
          static_cast<uint64_t>(flow.protocol) << 24 | static_cast<uint64_t>(flow.selector) << 32,
      LoadLittleEndian64(flow.source.data()), LoadLittleEndian64(flow.source.data() + 8),
      LoadLittleEndian64(flow.destination.data()), LoadLittleEndian64(flow.destination.data() + 8)};
  uint64_t hash = 0x6a09e667f3bcc908ULL;
  for (uint64_t value : words) {
    uint64_t state = hash ^ value;
    hash = SplitMix64(state);
  }
  return hash;
}

uint64_t ClassSeed(uint64_t direction_seed, uint64_t class_key) {
  uint64_t state = direction_seed;
  uint64_t keyed = SplitMix64(state) ^ class_key;
  return SplitMix64(keyed);
}

}  // namespace nslab::impair
