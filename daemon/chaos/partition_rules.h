#pragma once

#include <string>
#include <vector>

namespace nslab::chaos {

inline constexpr char kPartitionTable[] = "nslab_partition";

// The nft commands that cut a node off from `others` (addresses of nodes in other
// partition groups, IPv4 and IPv6). Rules sit on the input hook, so with `reject` the
// peer's connect() is refused (TCP RST, ICMP port unreachable) and with drop it times
// out — a drop on the sender's output would instead hand the sender EPERM.
std::string RenderPartitionRules(const std::vector<std::string>& others, bool reject);

// Removes what RenderPartitionRules added (and nothing else).
std::string RenderHeal();

}  // namespace nslab::chaos
