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

// Checks `filter` whole and returns its state normalised the way ss names it ("CLOSE_WAIT"
// and "close_wait" → "close-wait", "established" → "estab"; "" for all); INVALID_ARGUMENT
// listing the valid names for a state or protocol no socket has.
absl::StatusOr<std::string> CheckedFilterState(const SocketFilter& filter);

// TCP and UDP sockets of the namespace behind `netns_fd`, read with sock_diag (inet_diag
// with INET_DIAG_INFO and INET_DIAG_SKMEMINFO), each with the processes of that
// namespace holding it (matched by socket inode under /proc/<pid>/fd).
// Appends the count per state of `list`'s sockets, most first (`ss -tan | awk | uniq -c`).
void AddStateSummary(nslab::v1::SocketsResponse* list);

absl::StatusOr<nslab::v1::SocketsResponse> ListSockets(int netns_fd, const SocketFilter& filter);

}  // namespace nslab::diag
