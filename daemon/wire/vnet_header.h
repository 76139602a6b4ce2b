#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace nslab::wire {

// The struct virtio_net_hdr a TAP opened with IFF_VNET_HDR puts before every frame it hands
// over and expects before every frame it is given (10 bytes, little-endian on the hosts we
// run on; no mergeable-buffer count).
inline constexpr size_t kVnetHeaderBytes = 10;

// The values of <linux/virtio_net.h>, which does not compile as C++ (a field named `class`).
inline constexpr uint8_t kVnetNeedsChecksum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kVnetGsoTcpV4 = 1;       // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr uint8_t kVnetGsoTcpV6 = 4;       // VIRTIO_NET_HDR_GSO_TCPV6
inline constexpr uint8_t kVnetGsoEcn = 0x80;      // VIRTIO_NET_HDR_GSO_ECN

struct VnetHeader {
  // VIRTIO_NET_HDR_F_NEEDS_CSUM: the TCP/UDP checksum is only the pseudo-header sum; whoever
  // delivers the frame must complete it from csum_start on.
  bool needs_checksum = false;
  // VIRTIO_NET_HDR_GSO_*: a TSO/GSO super-frame that the kernel would cut into segments of
  // gso_size payload bytes on a device without offloads.
  uint8_t gso_type = 0;
  uint16_t header_length = 0;
  uint16_t gso_size = 0;
  uint16_t checksum_start = 0;
  uint16_t checksum_offset = 0;

  bool is_gso() const { return gso_type != 0; }
};

// nullopt when `bytes` is shorter than a header.
std::optional<VnetHeader> ParseVnetHeader(std::span<const std::byte> bytes);

// Does in software what a NIC with checksum offload does for a NEEDS_CSUM frame: sums the
// frame from checksum_start on (the field holds the pseudo-header sum) and stores the result
// at checksum_start + checksum_offset. After this the frame carries a complete checksum, so
// a corrupted bit is caught by the receiver as it would be on a real link. False (frame
// untouched) when the offsets do not fit the frame.
bool CompleteChecksum(std::span<std::byte> frame, const VnetHeader& header);

}  // namespace nslab::wire
