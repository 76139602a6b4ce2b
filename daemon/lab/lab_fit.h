#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// What this host lets nslabd make, read when a lab is about to be built.
struct HostLimits {
  uint64_t open_files_soft = 0;  // RLIMIT_NOFILE
  uint64_t open_files_hard = 0;
  uint64_t open_files_used = 0;      // fds nslabd has open now
  uint64_t max_net_namespaces = 0;   // user.max_net_namespaces
  uint64_t named_namespaces = 0;     // entries of /run/netns now (a lower bound of those in use)
  uint64_t memory_available_kb = 0;  // MemAvailable
};

// Reads the limits of this process and host.
absl::StatusOr<HostLimits> ReadHostLimits();

// Raises this process's open-files soft limit to its hard limit (what a daemon that opens
// a namespace and a socket per node needs), returning the limits before and after.
struct OpenFilesLimits {
  uint64_t soft_before = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;
};
absl::StatusOr<OpenFilesLimits> RaiseOpenFilesLimit();

// A Linux bridge numbers its ports in 10 bits and keeps 0 for itself (BR_MAX_PORTS).
inline constexpr uint64_t kBridgeMaxPorts = 1023;
// A switch with more ports than one bridge takes is a tree: br0 joined to leaf bridges that
// hold the ports, each leaf giving one port to its uplink.
inline constexpr uint64_t kPortsPerLeafBridge = kBridgeMaxPorts - 1;
inline constexpr uint64_t kMaxSwitchPorts = kBridgeMaxPorts * kPortsPerLeafBridge;

// Namespaces and netlink sockets a build keeps open at once: the window of nodes whose
// handles stay cached between steps. Parallel workers may hold a few more.
inline constexpr size_t kBuildHandleWindow = 64;
inline constexpr size_t kBuildWorkers = 4;

// What a lab of this topology will hold while it is built and once it is up.
struct LabFootprint {
  uint64_t namespaces = 0;
  // fds held for as long as the lab is up: a link-watch socket per node (when events are
  // followed), the TAP fds of wire links, pipes of supervised processes.
  uint64_t lasting_fds = 0;
  // fds held only while building: the handle window and what workers open at once.
  uint64_t build_fds = 0;
  // The kernel's memory for namespaces and links, estimated (see lab_fit.cc).
  uint64_t memory_kb = 0;
  // The first node with more ports than its bridges take (0 ports: none), and its limit.
  uint64_t too_many_ports = 0;
  uint64_t ports_limit = 0;
  std::string too_many_ports_node;
};

// `wire_links` is how many links run as userspace wires; `watch_links` whether the
// daemon keeps a link-watch socket per node.
LabFootprint FootprintOf(const nslab::v1::Topology& topology, int wire_links, bool watch_links);

// RESOURCE_EXHAUSTED naming the first limit the lab does not fit in (open files, the
// kernel's namespaces, ports of a Linux bridge, memory) and how to raise it; OK if it fits.
absl::Status CheckLabFits(const std::string& lab, const LabFootprint& footprint,
                          const HostLimits& limits);

}  // namespace nslab::lab
