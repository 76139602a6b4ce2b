#pragma once

// What a NIC with rx checksum offload does for each received frame: verify the TCP or UDP
// checksum of an unfragmented IPv4 packet so that the stack need not (virtio's DATA_VALID).

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::driver {

enum class RxChecksumVerdict {
  kNotApplicable,  // not IPv4 TCP/UDP, a fragment, malformed, or UDP without a checksum
  kValid,
  kInvalid,
};

// `frame` starts at the Ethernet header.
RxChecksumVerdict verify_rx_checksum(packet::ConstBytes frame);

}  // namespace nslab::ustack::driver
