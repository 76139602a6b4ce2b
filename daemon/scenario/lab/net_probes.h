#pragma once

// Probes that open a socket inside a node's network namespace and speak to an address of the
// lab: a TCP connect, an HTTP GET, an ICMP echo series. Each attempt answers within its
// timeout and says what it saw in the words people know ("refused", "timed out").

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/scenario/engine/probe.h"

namespace nslab::scenario {

struct SocketTarget {
  int family = 0;  // AF_INET or AF_INET6
  std::string address;
  uint16_t port = 0;
};

// "10.0.0.2:80", "[fd00::2]:80"; INVALID_ARGUMENT otherwise.
absl::StatusOr<SocketTarget> ParseSocketTarget(absl::string_view text);

struct HttpTarget {
  SocketTarget socket;
  std::string host;  // the Host header: as written in the URL
  std::string path;  // "/" at least
};

// "http://10.0.0.2:8080/health", "http://[fd00::2]/"; port 80 by default.
absl::StatusOr<HttpTarget> ParseHttpUrl(absl::string_view url);

// `netns_fd`: the node's namespace (netns::Open). A connect that completes is ok.
ProbeOutcome TcpConnect(int netns_fd, const SocketTarget& target, absl::Duration timeout);

// GET with Connection: close; ok when the status is `status` (0: any 2xx).
ProbeOutcome HttpGet(int netns_fd, const HttpTarget& target, uint32_t status,
                     absl::Duration timeout);

struct PingBounds {
  uint32_t count = 3;
  double max_loss_percent = 0;
  absl::Duration max_rtt = absl::ZeroDuration();  // zero: no bound
};

// `count` echo requests 10 ms apart, then waits for the replies until `timeout` after the
// first; ok when the loss and the slowest reply are within bounds.
ProbeOutcome Ping(int netns_fd, absl::string_view address, const PingBounds& bounds,
                  absl::Duration timeout);

}  // namespace nslab::scenario
