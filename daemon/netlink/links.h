#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/netlink/route_socket.h"

namespace nslab::netlink {

struct VethEnd {
  std::string name;
  int netns_fd = -1;  // the namespace the end is created in
  std::string mac;    // empty = kernel chooses
  uint32_t mtu = 0;   // 0 = kernel default
  int ifindex = 0;    // 0 = kernel chooses
};

// Creates a veth pair with each end directly inside its own namespace (never in the
// daemon's), so names only need to be unique inside the node.
absl::Status CreateVethPair(const RouteSocket& sock, const VethEnd& a, const VethEnd& b);

struct BridgeOptions {
  bool stp = false;
  uint32_t ageing_seconds = 0;  // 0 = kernel default
  // IGMP/MLD snooping; a snooping bridge also joins the all-snoopers groups and announces
  // that with reports of its own.
  bool multicast_snooping = true;
};

// Creates a bridge in the socket's namespace.
absl::Status CreateBridge(const RouteSocket& sock, const std::string& name,
                          const BridgeOptions& options);

// Creates a link of a kind that needs no peer ("dummy", "ifb", "vxlan" with id 42) in the
// socket's namespace; used to probe what this kernel supports.
absl::Status CreateSimpleLink(const RouteSocket& sock, const std::string& name,
                              const std::string& kind);

absl::Status SetLinkUp(const RouteSocket& sock, const std::string& name, bool up);
// Stops the kernel from giving the link IPv6 link-local addresses (addr_gen_mode none);
// takes effect at the next up. Through netlink rather than the "default" sysctl: every
// /proc/sys lookup walks one dentry per namespace alive, which grows a build quadratically.
absl::Status DisableLinkLocal(const RouteSocket& sock, const std::string& name);
// Turns on GRO of a veth end, which gives it its own NAPI ring: packets sent to it queue
// there instead of on the CPU's backlog (net.core.netdev_max_backlog, 1,000 by default),
// which a bridge flooding a broadcast to more ports than that overruns, dropping the rest.
absl::Status EnableGro(const RouteSocket& sock, const std::string& name);
// Turns off TSO of a veth end. A veth queues what it sends on its peer's NAPI ring only if
// it sends no TSO segments (veth_skb_is_eligible_for_gro): the ports of a flooding bridge.
absl::Status DisableTso(const RouteSocket& sock, const std::string& name);
absl::Status SetMaster(const RouteSocket& sock, const std::string& port, const std::string& master);
absl::Status DeleteLink(const RouteSocket& sock, const std::string& name);

struct LinkInfo {
  std::string name;
  int ifindex = 0;
  std::string kind;  // "veth", "bridge", "tun", "" for loopback
  std::string mac;
  uint32_t mtu = 0;
  bool up = false;
  bool carrier = false;
  // RFC 2863 operstate UP: the kernel's link watcher has processed the carrier and the
  // device transmits. Until then (up to ~1 s after carrier) packets go to a no-op qdisc.
  bool oper_up = false;
  int master_ifindex = 0;
  std::vector<std::string> addresses;  // CIDR
};

// Every link of the socket's namespace with its addresses, ordered by ifindex.
absl::StatusOr<std::vector<LinkInfo>> ListLinks(const RouteSocket& sock);

// A port of a bridge, as the bridge describes it.
struct BridgePortInfo {
  std::string name;
  bool up = false;
  bool carrier = false;
  bool oper_up = false;  // as LinkInfo::oper_up
};

// Every bridge port of the socket's namespace (`bridge link`). Unlike ListLinks, the kernel
// describes a veth port here without naming its peer's namespace, a lookup that scans every
// peer the namespace has: a dump of a switch with thousands of ports stays linear.
absl::StatusOr<std::vector<BridgePortInfo>> ListBridgePorts(const RouteSocket& sock);

}  // namespace nslab::netlink
