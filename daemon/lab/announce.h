#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace nslab::lab {

// Sends one gratuitous ARP request (RFC 5227's announcement) for each IPv4 address in `cidrs`
// out of `interface` in the namespace `netns_fd`. A neighbour that still maps such an address
// to another MAC -- that of a node an apply removed and added again, or of a host that held it
// before -- takes the new one at once (Linux overrides an entry on a gratuitous ARP), instead
// of sending to the old MAC until its entry goes stale and is probed, 5 to 8 s later. IPv6
// addresses are skipped: the kernel sends unsolicited neighbour advertisements itself.
absl::Status AnnounceIpv4(int netns_fd, const std::string& interface,
                          const std::vector<std::string>& cidrs);

}  // namespace nslab::lab
