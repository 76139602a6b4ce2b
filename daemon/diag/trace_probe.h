#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/common/fd.h"
#include "daemon/diag/trace_packet.h"

namespace nslab::diag {

// What the probe's own socket learned.
struct ProbeResult {
  std::string answer = "none";  // reply / rst / icmp ... / none
  std::string connect_result;   // "connected", "refused", "timed out", ...
  int error = 0;
};

// A non-blocking socket for `probe` inside the namespace: TCP, UDP, or raw ICMP.
absl::StatusOr<UniqueFd> ProbeSocket(int netns_fd, const Probe& probe);

// Sends the probe on `fd` (a TCP connect, a UDP datagram, an ICMP echo with id
// probe.source_port) and waits up to `timeout` for what comes back.
ProbeResult SendProbe(int fd, const Probe& probe, absl::Duration timeout);

}  // namespace nslab::diag
