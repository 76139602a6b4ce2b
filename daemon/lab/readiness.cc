#include "daemon/lab/readiness.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/status_macros.h"
#include "daemon/netlink/links.h"
#include "daemon/netns/netns.h"

namespace nslab::lab {
namespace {

// /proc/net/{tcp,udp}[6] lines: "sl local_address rem_address st ...", with the local
// address as HEXIP:HEXPORT and st 0A for LISTEN (TCP) or 07 for a bound UDP socket.
bool TableHasPort(const std::string& path, uint32_t port, const std::string& state) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, st;
    if (!(fields >> slot >> local >> remote >> st)) {
      continue;
    }
    const size_t colon = local.rfind(':');
    uint32_t local_port = 0;
    if (colon != std::string::npos && absl::SimpleHexAtoi(local.substr(colon + 1), &local_port) &&
        local_port == port && st == state) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<bool> IsListening(const std::string& netns, const std::string& protocol,
                                 uint32_t port) {
  if (protocol != "tcp" && protocol != "udp") {
    return absl::InvalidArgumentError(
        absl::StrCat("wait_for protocol \"", protocol, "\": use tcp or udp"));
  }
  const std::string state = protocol == "tcp" ? "0A" : "07";
  bool found = false;
  auto status = netns::RunIn(netns, [&] {
    const std::string base = absl::StrCat("/proc/thread-self/net/", protocol);
    found = TableHasPort(base, port, state) || TableHasPort(base + "6", port, state);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return found;
}

absl::Status WaitListening(const std::string& netns, const std::string& protocol, uint32_t port,
                           absl::Time deadline) {
  while (true) {
    auto listening = IsListening(netns, protocol, port);
    if (!listening.ok()) {
      return listening.status();
    }
    if (*listening) {
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("nothing ", protocol == "tcp" ? "listens on" : "is bound to", " ", protocol,
                       " port ", port, " in ", netns));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

absl::StatusOr<bool> VethsRunning(const netlink::RouteSocket& sock) {
  NSLAB_ASSIGN_OR_RETURN(auto links, netlink::ListLinks(sock));
  return std::all_of(links.begin(), links.end(), [](const netlink::LinkInfo& link) {
    return link.kind != "veth" || !link.up || !link.carrier || link.oper_up;
  });
}

absl::StatusOr<bool> BridgePortsRunning(const netlink::RouteSocket& sock) {
  NSLAB_ASSIGN_OR_RETURN(auto ports, netlink::ListBridgePorts(sock));
  return std::all_of(ports.begin(), ports.end(), [](const netlink::BridgePortInfo& port) {
    return !port.up || !port.carrier || port.oper_up;
  });
}

}  // namespace nslab::lab
