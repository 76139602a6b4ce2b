#include "tests/netem/support/probe_frame.h"

#include <algorithm>

namespace nslab::netem {
namespace {

uint16_t Read16(std::span<const std::byte> bytes, size_t at) {
  return static_cast<uint16_t>((std::to_integer<unsigned>(bytes[at]) << 8) |
                               std::to_integer<unsigned>(bytes[at + 1]));
}

uint32_t Read32(std::span<const std::byte> bytes, size_t at) {
  return (uint32_t{Read16(bytes, at)} << 16) | Read16(bytes, at + 2);
}

void Write32(std::vector<std::byte>& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    bytes[at + i] = static_cast<std::byte>(value >> (24 - 8 * i));
  }
}

bool MacIs(std::span<const std::byte> bytes, size_t at, const MacAddress& mac) {
  for (size_t i = 0; i < mac.size(); ++i) {
    if (std::to_integer<uint8_t>(bytes[at + i]) != mac[i]) {
      return false;
    }
  }
  return true;
}

// The IPv4 header a Linux UDP socket sends for a probe, minus the fields it varies per
// datagram (identification, TTL is fixed by the sysctl, DF by PMTU discovery): what must hold.
bool Ipv4HeaderHolds(std::span<const std::byte> ip, const ProbeFlow& flow) {
  return std::to_integer<uint8_t>(ip[0]) == 0x45 &&
         Read16(ip, 2) == kIpv4Bytes + kUdpBytes + flow.payload_bytes &&
         (Read16(ip, 6) & 0x3fff) == 0 &&  // no fragment offset, no more-fragments
         std::to_integer<uint8_t>(ip[9]) == 17 && Read32(ip, 12) == flow.source_ip &&
         Read32(ip, 16) == flow.destination_ip && OnesComplementSum(ip.first(kIpv4Bytes)) == 0xffff;
}

}  // namespace

uint16_t OnesComplementSum(std::span<const std::byte> bytes, uint32_t initial) {
  uint64_t sum = initial;
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    sum += Read16(bytes, i);
  }
  if (i < bytes.size()) {
    sum += std::to_integer<uint32_t>(bytes[i]) << 8;
  }
  while (sum > 0xffff) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

std::vector<std::byte> ProbePayload(uint32_t payload_bytes, uint32_t seq, int64_t sent_ns) {
  std::vector<std::byte> payload(std::max<size_t>(payload_bytes, kProbeHeaderBytes));
  Write32(payload, 0, kProbeMagic);
  Write32(payload, 4, seq);
  Write32(payload, 8, static_cast<uint32_t>(static_cast<uint64_t>(sent_ns) >> 32));
  Write32(payload, 12, static_cast<uint32_t>(static_cast<uint64_t>(sent_ns)));
  return payload;
}

FrameCheck CheckProbeFrame(std::span<const std::byte> frame, const ProbeFlow& flow,
                           bool udp_checksum_pending) {
  FrameCheck check;
  if (frame.size() != flow.frame_bytes() || flow.payload_bytes < kProbeHeaderBytes) {
    return check;  // kForeign: corruption flips a bit, it never changes the length
  }
  check.verdict = FrameVerdict::kCorrupted;
  if (!MacIs(frame, 0, flow.destination_mac) || !MacIs(frame, 6, flow.source_mac) ||
      Read16(frame, 12) != 0x0800) {
    return check;
  }
  const std::span<const std::byte> ip = frame.subspan(kEthernetBytes);
  if (!Ipv4HeaderHolds(ip, flow)) {
    return check;
  }
  const std::span<const std::byte> udp = ip.subspan(kIpv4Bytes);
  const uint16_t udp_length = static_cast<uint16_t>(kUdpBytes + flow.payload_bytes);
  if (Read16(udp, 2) != flow.destination_port || Read16(udp, 4) != udp_length) {
    return check;
  }
  if (!udp_checksum_pending) {
    // The pseudo-header, then the datagram with its checksum: all ones when it holds. A zero
    // checksum ("none") fails too: Linux always fills it in for IPv4 UDP sockets.
    const uint32_t pseudo = (flow.source_ip >> 16) + (flow.source_ip & 0xffff) +
                            (flow.destination_ip >> 16) + (flow.destination_ip & 0xffff) + 17 +
                            udp_length;
    if (Read16(udp, 6) == 0 || OnesComplementSum(udp, pseudo) != 0xffff) {
      return check;
    }
  }
  const std::span<const std::byte> payload = udp.subspan(kUdpBytes);
  if (Read32(payload, 0) != kProbeMagic) {
    return check;
  }
  check.verdict = FrameVerdict::kIntact;
  check.seq = Read32(payload, 4);
  check.sent_ns = static_cast<int64_t>((uint64_t{Read32(payload, 8)} << 32) | Read32(payload, 12));
  return check;
}

}  // namespace nslab::netem
