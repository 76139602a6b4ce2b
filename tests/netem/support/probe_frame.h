#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace nslab::netem {

// A probe is a UDP datagram whose payload starts with kProbeMagic, the sequence number and the
// send time (CLOCK_REALTIME ns), big-endian, then zero padding up to its fixed size.
inline constexpr uint32_t kProbeMagic = 0x4e534c50;  // "NSLP"
inline constexpr size_t kProbeHeaderBytes = 16;
inline constexpr size_t kEthernetBytes = 14;
inline constexpr size_t kIpv4Bytes = 20;
inline constexpr size_t kUdpBytes = 8;

using MacAddress = std::array<uint8_t, 6>;

// What an intact probe frame must carry; all fields in host order.
struct ProbeFlow {
  MacAddress source_mac{};
  MacAddress destination_mac{};
  uint32_t source_ip = 0;
  uint32_t destination_ip = 0;
  uint16_t destination_port = 0;
  uint32_t payload_bytes = 0;

  size_t frame_bytes() const { return kEthernetBytes + kIpv4Bytes + kUdpBytes + payload_bytes; }
};

// The payload of probe `seq` sent at `sent_ns`.
std::vector<std::byte> ProbePayload(uint32_t payload_bytes, uint32_t seq, int64_t sent_ns);

enum class FrameVerdict {
  kIntact,     // every check holds: a probe as sent
  kCorrupted,  // a probe-sized frame that fails a check
  kForeign,    // another size: not a probe (ARP, IPv6, ...)
};

struct FrameCheck {
  FrameVerdict verdict = FrameVerdict::kForeign;
  uint32_t seq = 0;     // kIntact only
  int64_t sent_ns = 0;  // kIntact only
};

// Checks one received frame against `flow`: Ethernet addresses and type, the IPv4 header (as
// the sender builds it) and its checksum, the UDP header, the probe header and, unless
// `udp_checksum_pending` (the kernel's TP_STATUS_CSUMNOTREADY: the sender's checksum offload
// has not filled it in), the UDP checksum. One flipped bit anywhere in the frame fails one of
// them: the checksums see every bit of the headers and payload they cover.
FrameCheck CheckProbeFrame(std::span<const std::byte> frame, const ProbeFlow& flow,
                           bool udp_checksum_pending);

// The Internet checksum's one's-complement sum of `bytes` (odd length padded with zero),
// folded to 16 bits, added to `initial`.
uint16_t OnesComplementSum(std::span<const std::byte> bytes, uint32_t initial = 0);

}  // namespace nslab::netem
