#pragma once

// What the stack sends frames through: the NIC in production, a frame collector in tests
// (gVisor's link/channel). The link lends its own buffer to `fill`, so that nothing is copied
// or allocated per frame.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/functional/function_ref.h"
#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::net {

// A TCP/UDP checksum the link completes (virtio NEEDS_CSUM): the field at start + offset holds
// the pseudo-header sum, and the link adds in everything from start on. Offsets from the
// Ethernet header.
struct LinkChecksumOffload {
  std::uint16_t start = 0;
  std::uint16_t offset = 0;
};

// A TCP frame larger than the MTU that the link cuts into frames of `mss` payload bytes, each
// with a copy of the first `header_len` bytes of the frame (Ethernet, IPv4 and TCP headers):
// TCP segmentation offload. Sent with a LinkChecksumOffload, which each cut frame gets.
struct LinkSegmentation {
  std::uint16_t mss = 0;
  std::uint16_t header_len = 0;
};

class Link {
 public:
  virtual ~Link() = default;

  // One frame of `len` bytes, from the Ethernet header on, written by `fill` into the link's
  // buffer. False when the link had no room; the frame is dropped (the link counts it).
  virtual bool send(std::size_t len, std::optional<LinkChecksumOffload> checksum,
                    absl::FunctionRef<void(packet::MutableBytes frame)> fill) = 0;
  // Whether send() accepts a LinkChecksumOffload; without it every checksum is computed.
  virtual bool checksum_offload() const = 0;

  // Whether send_segmented() may be used now.
  virtual bool segmentation_offload() const { return false; }
  // As send(), for a frame the link segments; false (and counted) without the offload.
  virtual bool send_segmented(std::size_t /*len*/, LinkChecksumOffload /*checksum*/,
                              LinkSegmentation /*segmentation*/,
                              absl::FunctionRef<void(packet::MutableBytes frame)> /*fill*/) {
    return false;
  }
};

}  // namespace nslab::ustack::net
