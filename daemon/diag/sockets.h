#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

struct SocketFilter {
  std::string state;     // ss's name, lowercase ("close-wait"); empty = all
  uint32_t port = 0;     // local or peer; 0 = all
  std::string protocol;  // "tcp", "udp", empty = both
};

// Normalises a state name the way a user types it ("CLOSE_WAIT", "established") to ss's
// ("close-wait", "estab"); INVALID_ARGUMENT listing the valid names otherwise.
absl::StatusOr<std::string> NormaliseState(const std::string& state);

// TCP and UDP sockets of the namespace behind `netns_fd`, read with sock_diag (inet_diag
// with INET_DIAG_INFO and INET_DIAG_SKMEMINFO), each with the processes of that
// namespace holding it (matched by socket inode under /proc/<pid>/fd).
// Appends the count per state of `list`'s sockets, most first (`ss -tan | awk | uniq -c`).
void AddStateSummary(nslab::v1::SocketsResponse* list);

absl::StatusOr<nslab::v1::SocketsResponse> ListSockets(int netns_fd, const SocketFilter& filter);

}  // namespace nslab::diag
