#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

struct RouteQuery {
  std::string destination;
  std::string source;           // optional
  uint32_t mark = 0;            // optional
  std::string input_interface;  // optional: the decision for a packet arriving there
};

// `ip route get` inside the namespace (RTM_GETROUTE, then RTM_F_FIB_MATCH for the route
// that matched). A lookup the kernel refuses is not an error: it is the answer, in
// `error`. Bad addresses are INVALID_ARGUMENT, an unknown interface NOT_FOUND.
absl::StatusOr<nslab::v1::RouteGetResponse> GetRoute(int netns_fd, const RouteQuery& query);

// `ip rule` and `ip route show table all`, IPv4 and IPv6.
absl::StatusOr<nslab::v1::RoutesResponse> ListRoutingTables(int netns_fd);

}  // namespace nslab::diag
