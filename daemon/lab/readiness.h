#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/netlink/route_socket.h"

namespace nslab::lab {

// Whether a socket inside the namespace listens on (tcp) or is bound to (udp) `port`,
// IPv4 or IPv6. Read from /proc/thread-self/net on a thread inside the namespace.
absl::StatusOr<bool> IsListening(const std::string& netns, const std::string& protocol,
                                 uint32_t port);

// Polls IsListening until it holds or `deadline` passes (DEADLINE_EXCEEDED).
absl::Status WaitListening(const std::string& netns, const std::string& protocol, uint32_t port,
                           absl::Time deadline);

// Whether every veth of the socket's namespace that is up with a carrier is also running:
// the kernel's link watcher has given it a queue, so a first packet is not dropped.
absl::StatusOr<bool> VethsRunning(const netlink::RouteSocket& sock);

// The same for a switch, whose interfaces are all bridge ports, from the bridges' own
// description of them: linear in the ports, where VethsRunning's dump is quadratic (see
// netlink::ListBridgePorts).
absl::StatusOr<bool> BridgePortsRunning(const netlink::RouteSocket& sock);

}  // namespace nslab::lab
