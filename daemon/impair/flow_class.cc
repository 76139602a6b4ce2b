#include "daemon/impair/flow_class.h"

#include <bit>
#include <cstring>

#include "daemon/impair/ip_headers.h"
#include "daemon/impair/rng.h"

namespace nslab::impair {
namespace {

using Bytes = std::span<const std::byte>;

constexpr uint16_t kFirstEthertype = 0x0600;  // below: an 802.3 length
constexpr uint8_t kIcmp = 1;
constexpr uint8_t kIcmpv6 = 58;

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
    return l4.empty() ? 0 : static_cast<uint8_t>(l4[0]);
  }
  if (HasPorts(protocol) && l4.size() >= 4) {
    return Load16(l4, 2);
  }
  return 0;
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

}  // namespace

FlowClass ClassifyFrame(Bytes frame) {
  const IpHeaders headers = ReadIpHeaders(frame);
  FlowClass flow;
  flow.ethertype = headers.ethertype < kFirstEthertype ? 0 : headers.ethertype;
  if (headers.ip_version == 0) {
    return flow;
  }
  flow.ip_version = headers.ip_version;
  flow.protocol = headers.protocol;
  const size_t address_length = headers.ip_version == 4 ? 4 : 16;
  std::memcpy(flow.source.data(), headers.source, address_length);
  std::memcpy(flow.destination.data(), headers.destination, address_length);
  if (!headers.fragment) {
    flow.selector =
        Selector(headers.transport, flow.protocol, headers.ip_version == 4 ? kIcmp : kIcmpv6);
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
