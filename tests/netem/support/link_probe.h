#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "tests/netem/support/probe_stats.h"

namespace nslab::netem {

// One end of a lab link: the node's namespace (topology::NamespaceOf(lab, node)), the
// interface there, and its IPv4 address (no prefix).
struct LinkEnd {
  std::string netns;
  std::string interface;
  std::string address;
};

// The end `node`:`interface` (address `address`) of a link of lab `lab`.
LinkEnd LabLinkEnd(const std::string& lab, const std::string& node, const std::string& interface,
                   const std::string& address);

struct ProbeOptions {
  uint32_t count = 1000;
  // UDP payload bytes, at least kProbeHeaderBytes; the frame is 42 bytes more.
  uint32_t payload_bytes = 100;
  // Probe i leaves at start + i * interval (at once when the sender is behind).
  std::chrono::nanoseconds interval = std::chrono::milliseconds(1);
  // How long the capture goes on after the last probe left: longer than the largest delay
  // (and queue) the impairment can give a probe.
  std::chrono::nanoseconds settle = std::chrono::milliseconds(500);
};

// Makes the link carry nothing but probes: IPv6 off on both interfaces (no router or
// neighbour solicitations, MLD reports, DAD) and permanent IPv4 neighbour entries both ways
// (no ARP, however long a run lasts).
absl::Status QuietLink(const LinkEnd& a, const LinkEnd& b);

// Sends `options.count` UDP probes from `from` to `to` over the link between them and records
// every frame `to`'s interface receives meanwhile (an AF_PACKET socket bound to it, with the
// kernel's receive timestamps and PACKET_AUXDATA), checking each (CheckProbeFrame). The
// sockets are opened inside the namespaces; a UDP socket bound at `to` takes the probes, so
// that no ICMP error crosses back. Call QuietLink first: anything else crossing counts as
// `foreign` (and a foreign frame of a probe's size as corrupted).
absl::StatusOr<ProbeRecords> RunProbes(const LinkEnd& from, const LinkEnd& to,
                                       const ProbeOptions& options);

}  // namespace nslab::netem
