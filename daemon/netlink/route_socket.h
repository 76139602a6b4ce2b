#pragma once

#include <memory>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct nl_msg;
struct nl_sock;

namespace nslab::netlink {

// libnl reports negative NLE_* codes; this turns one into a status naming `what`.
absl::Status NlStatus(absl::string_view what, int nl_error);

// A NETLINK_ROUTE socket bound to one network namespace: opened from a thread inside the
// namespace, then usable from any thread (one at a time).
class RouteSocket {
 public:
  // Opens the socket in the namespace behind `netns_fd`.
  static absl::StatusOr<RouteSocket> OpenIn(int netns_fd);
  // Opens the socket in the caller's own namespace.
  static absl::StatusOr<RouteSocket> OpenHere();

  nl_sock* get() const { return sock_.get(); }

 private:
  struct Free {
    void operator()(nl_sock* sock) const;
  };
  explicit RouteSocket(nl_sock* sock) : sock_(sock) {}
  std::unique_ptr<nl_sock, Free> sock_;
};

// Sends `msg` on `sock` and waits for the kernel's ACK: 0, or a negative NLE_* code.
int SendAndWaitForAck(const RouteSocket& sock, nl_msg* msg);

}  // namespace nslab::netlink
