#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

// `ip -s -s link` (IFLA_STATS64 through libnl) with `ethtool -g` and `ethtool -S` where
// the driver has them, for every link of the namespace.
absl::StatusOr<nslab::v1::LinksResponse> ListLinkStats(int netns_fd);

// `tc -s qdisc show [dev interface]`; NOT_FOUND for an interface the node lacks.
absl::StatusOr<nslab::v1::QdiscsResponse> ListQdiscs(int netns_fd, const std::string& interface);

// `ip neigh` (IPv4 and IPv6).
absl::StatusOr<nslab::v1::NeighboursResponse> ListNeighbours(int netns_fd);

}  // namespace nslab::diag
