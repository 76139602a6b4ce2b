#include "daemon/lab/lab_fit.h"

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/netns/netns.h"

namespace nslab::lab {
namespace {

// The kernel's memory for one namespace (lo up, its sysctl tables) and for one veth pair
// with its addresses and IPv6 state, measured as MemAvailable before and after 500 of
// each on Linux 6.18 (113 kB and 268 kB), rounded up: an estimate to refuse a lab that
// clearly cannot fit, not a promise that one just under it will.
constexpr uint64_t kNamespaceKb = 150;
constexpr uint64_t kLinkKb = 300;
// fds the daemon needs besides labs: gRPC, logs, state files, a client or two.
constexpr uint64_t kDaemonSlackFds = 64;
// A supervised process: its stdout and stderr pipes and a pidfd.
constexpr uint64_t kFdsPerProcess = 3;

uint64_t ReadUint(const std::string& path) {
  std::ifstream in(path);
  uint64_t value = 0;
  in >> value;
  return value;
}

uint64_t MemAvailableKb() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") {
      return value;
    }
  }
  return 0;
}

uint64_t CountEntries(const std::string& dir) {
  std::error_code error;
  uint64_t count = 0;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  return count;
}

// 10000 -> "10,000": limits are read by people comparing them with lab sizes.
std::string Thousands(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) {
      out.push_back(',');
    }
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

absl::StatusOr<HostLimits> ReadHostLimits() {
  HostLimits limits;
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) {
    return ErrnoStatus("getrlimit RLIMIT_NOFILE", errno);
  }
  limits.open_files_soft = files.rlim_cur;
  limits.open_files_hard = files.rlim_max;
  limits.open_files_used = CountEntries("/proc/self/fd");
  limits.max_net_namespaces = ReadUint("/proc/sys/user/max_net_namespaces");
  limits.named_namespaces = CountEntries(std::string(netns::kNetnsDir));
  limits.memory_available_kb = MemAvailableKb();
  return limits;
}

absl::StatusOr<OpenFilesLimits> RaiseOpenFilesLimit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) {
    return ErrnoStatus("getrlimit RLIMIT_NOFILE", errno);
  }
  OpenFilesLimits result{
      .soft_before = files.rlim_cur, .soft = files.rlim_cur, .hard = files.rlim_max};
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0) {
      return ErrnoStatus("setrlimit RLIMIT_NOFILE to the hard limit", errno);
    }
    result.soft = files.rlim_max;
  }
  return result;
}

LabFootprint FootprintOf(const nslab::v1::Topology& topology, int wire_links, bool watch_links) {
  LabFootprint footprint;
  footprint.namespaces = static_cast<uint64_t>(topology.nodes_size());
  std::map<std::string, uint64_t> bridge_ports;
  uint64_t processes = 0;
  for (const auto& node : topology.nodes()) {
    processes += static_cast<uint64_t>(node.run_size());
    if (node.kind() == nslab::v1::NODE_KIND_USTACK) {
      processes += 1;
      bridge_ports[node.name()] += 1;  // the stack's TAP
    }
  }
  for (const auto& link : topology.links()) {
    for (const auto* end : {&link.a(), &link.b()}) {
      bridge_ports[end->node()] += 1;
    }
  }
  for (const auto& node : topology.nodes()) {
    // A switch spreads its ports over a tree of bridges; a stack's bridge is one bridge.
    const uint64_t limit = node.kind() == nslab::v1::NODE_KIND_SWITCH   ? kMaxSwitchPorts
                           : node.kind() == nslab::v1::NODE_KIND_USTACK ? kBridgeMaxPorts
                                                                        : 0;
    const uint64_t ports = bridge_ports[node.name()];
    if (limit != 0 && ports > limit && footprint.too_many_ports == 0) {
      footprint.too_many_ports = ports;
      footprint.ports_limit = limit;
      footprint.too_many_ports_node = node.name();
    }
  }
  footprint.lasting_fds = (watch_links ? footprint.namespaces : 0) +
                          2 * static_cast<uint64_t>(wire_links) + kFdsPerProcess * processes;
  // Each cached node holds its namespace and its netlink socket; a worker may hold two
  // nodes beyond the window (both ends of a link) and a thread entering a namespace.
  footprint.build_fds =
      2 * std::min<uint64_t>(kBuildHandleWindow, footprint.namespaces) + 6 * kBuildWorkers;
  footprint.memory_kb =
      kNamespaceKb * footprint.namespaces + kLinkKb * static_cast<uint64_t>(topology.links_size());
  return footprint;
}

absl::Status CheckLabFits(const std::string& lab, const LabFootprint& footprint,
                          const HostLimits& limits) {
  const uint64_t fds_needed = footprint.lasting_fds + footprint.build_fds + kDaemonSlackFds;
  const uint64_t fds_free = limits.open_files_soft > limits.open_files_used
                                ? limits.open_files_soft - limits.open_files_used
                                : 0;
  if (fds_needed > fds_free) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "lab ", lab, " does not fit nslabd's open-files limit: it needs about ",
        Thousands(fds_needed), " open files (", Thousands(footprint.lasting_fds),
        " for as long as it is up: a link-watch socket per node, wire TAPs, process pipes; ",
        Thousands(footprint.build_fds + kDaemonSlackFds), " while building) and nslabd has ",
        Thousands(fds_free), " left (RLIMIT_NOFILE soft ", Thousands(limits.open_files_soft),
        ", hard ", Thousands(limits.open_files_hard), ", ", Thousands(limits.open_files_used),
        " open); nslabd raises its soft limit to the hard one at start, so raise the hard limit "
        "(systemd LimitNOFILE=, docker run --ulimit nofile=N:N, or ulimit -Hn before starting "
        "nslabd) and restart nslabd, or build a smaller lab"));
  }
  const uint64_t namespaces_free = limits.max_net_namespaces > limits.named_namespaces
                                       ? limits.max_net_namespaces - limits.named_namespaces
                                       : 0;
  if (limits.max_net_namespaces != 0 && footprint.namespaces > namespaces_free) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "lab ", lab, " needs ", Thousands(footprint.namespaces),
        " network namespaces and the kernel allows ", Thousands(limits.max_net_namespaces),
        " (user.max_net_namespaces) with at least ", Thousands(limits.named_namespaces),
        " in use; raise it with sysctl -w user.max_net_namespaces=N, or build a smaller lab"));
  }
  if (footprint.too_many_ports != 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "lab ", lab, ": node ", footprint.too_many_ports_node, " gets ",
        Thousands(footprint.too_many_ports), " ports and takes at most ",
        Thousands(footprint.ports_limit),
        " (a Linux bridge numbers ports in 10 bits, BR_MAX_PORTS: a kernel constant, not a "
        "setting); split it into nodes joined by links"));
  }
  if (limits.memory_available_kb != 0 && footprint.memory_kb > limits.memory_available_kb) {
    return absl::ResourceExhaustedError(
        absl::StrCat("lab ", lab, " needs about ", Thousands(footprint.memory_kb / 1024),
                     " MiB of kernel memory (", Thousands(footprint.namespaces),
                     " namespaces, links of ", "about ", kLinkKb, " kB each) and the host has ",
                     Thousands(limits.memory_available_kb / 1024),
                     " MiB available (MemAvailable); free memory or build a smaller lab"));
  }
  return absl::OkStatus();
}

}  // namespace nslab::lab
