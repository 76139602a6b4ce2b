#pragma once

// Where the NIC's device side sends and receives frames: a TAP fd in production, one end of a
// datagram socketpair in tests. Each read() yields one virtio_net_hdr followed by one Ethernet
// frame, and each write() takes one.

#include "absl/status/status.h"
#include "daemon/tap/vnet_header.h"

namespace nslab::ustack::driver {

class FramePort {
 public:
  virtual ~FramePort() = default;

  // Non-blocking, message-preserving.
  virtual int fd() const = 0;
  virtual tap::VnetHeaderSize vnet_hdr_size() const = 0;
  // What the other side may hand over: with `checksum`, frames with partial checksums
  // (NEEDS_CSUM) or checksums it vouches for (DATA_VALID); with `tso` too, TCP segments larger
  // than the MTU (GSO TCPV4). TUNSETOFFLOAD on a TAP.
  virtual absl::Status set_offloads(bool checksum, bool tso) = 0;
};

}  // namespace nslab::ustack::driver
