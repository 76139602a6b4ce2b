#include "daemon/netlink/links.h"

#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"

namespace nslab::netlink {
namespace {

struct LinkPut {
  void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;

struct AddrPut {
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};
using AddrPtr = std::unique_ptr<nl_addr, AddrPut>;

struct CachePut {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
using CachePtr = std::unique_ptr<nl_cache, CachePut>;

struct MsgFree {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using MsgPtr = std::unique_ptr<nl_msg, MsgFree>;

absl::Status ApplyEnd(rtnl_link* link, const VethEnd& end) {
  rtnl_link_set_name(link, end.name.c_str());
  if (end.netns_fd >= 0) {
    rtnl_link_set_ns_fd(link, end.netns_fd);
  }
  if (end.ifindex != 0) {
    rtnl_link_set_ifindex(link, end.ifindex);
  }
  if (end.mtu != 0) {
    rtnl_link_set_mtu(link, end.mtu);
  }
  if (!end.mac.empty()) {
    nl_addr* mac = nullptr;
    if (nl_addr_parse(end.mac.c_str(), AF_LLC, &mac) < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad MAC address \"", end.mac, "\""));
    }
    AddrPtr owned(mac);
    rtnl_link_set_addr(link, mac);
  }
  return absl::OkStatus();
}

absl::StatusOr<LinkPtr> GetLink(const RouteSocket& sock, const std::string& name) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sock.get(), 0, name.c_str(), &link); err < 0) {
    return NlStatus(absl::StrCat("find link ", name), err);
  }
  return LinkPtr(link);
}

std::string FormatAddr(nl_addr* addr) {
  char buf[128];
  return nl_addr2str(addr, buf, sizeof(buf));
}

}  // namespace

absl::Status CreateVethPair(const RouteSocket& sock, const VethEnd& a, const VethEnd& b) {
  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) {
    return absl::ResourceExhaustedError("rtnl_link_veth_alloc failed");
  }
  LinkPtr peer(rtnl_link_veth_get_peer(link.get()));
  if (auto status = ApplyEnd(link.get(), a); !status.ok()) {
    return status;
  }
  if (auto status = ApplyEnd(peer.get(), b); !status.ok()) {
    return status;
  }
  int err = rtnl_link_add(sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
  return NlStatus(absl::StrCat("create veth ", a.name, " <-> ", b.name), err);
}

absl::Status CreateBridge(const RouteSocket& sock, const std::string& name,
                          const BridgeOptions& options) {
  // libnl has no setters for IFLA_BR_* attributes, so the request is written by hand.
  MsgPtr msg(nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK));
  if (!msg) {
    return absl::ResourceExhaustedError("nlmsg_alloc failed");
  }
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  if (nlmsg_append(msg.get(), &info, sizeof(info), NLMSG_ALIGNTO) < 0 ||
      nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0) {
    return absl::InternalError("building bridge request failed");
  }
  nlattr* linkinfo = nla_nest_start(msg.get(), IFLA_LINKINFO);
  nla_put_string(msg.get(), IFLA_INFO_KIND, "bridge");
  nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
  nla_put_u32(msg.get(), IFLA_BR_STP_STATE, options.stp ? 1 : 0);
  nla_put_u8(msg.get(), IFLA_BR_MCAST_SNOOPING, options.multicast_snooping ? 1 : 0);
  if (options.ageing_seconds != 0) {
    // The kernel counts bridge ageing in centiseconds.
    nla_put_u32(msg.get(), IFLA_BR_AGEING_TIME, options.ageing_seconds * 100);
  }
  nla_nest_end(msg.get(), data);
  nla_nest_end(msg.get(), linkinfo);
  return NlStatus(absl::StrCat("create bridge ", name), SendAndWaitForAck(sock, msg.get()));
}

absl::Status CreateSimpleLink(const RouteSocket& sock, const std::string& name,
                              const std::string& kind) {
  LinkPtr link(kind == "vxlan" ? rtnl_link_vxlan_alloc() : rtnl_link_alloc());
  if (!link) {
    return absl::ResourceExhaustedError("rtnl_link_alloc failed");
  }
  if (kind == "vxlan") {
    rtnl_link_vxlan_set_id(link.get(), 42);
  } else if (int err = rtnl_link_set_type(link.get(), kind.c_str()); err < 0) {
    return NlStatus(absl::StrCat("link kind ", kind), err);
  }
  rtnl_link_set_name(link.get(), name.c_str());
  int err = rtnl_link_add(sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
  return NlStatus(absl::StrCat("create ", kind, " link ", name), err);
}

namespace {

// An RTM_SETLINK request that names its device (ifindex 0): the kernel finds it by name in
// a hash. Reading the device first (rtnl_link_get_kernel) would cost a full description of
// it, and a veth's description names its peer's namespace, which the kernel finds by a
// linear scan of the namespace's peers: with a switch's thousands of ports, quadratic.
absl::StatusOr<MsgPtr> SetLinkRequest(const std::string& name, unsigned flags, unsigned change) {
  MsgPtr msg(nlmsg_alloc_simple(RTM_SETLINK, NLM_F_ACK));
  if (!msg) {
    return absl::ResourceExhaustedError("nlmsg_alloc failed");
  }
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_flags = flags;
  info.ifi_change = change;
  if (nlmsg_append(msg.get(), &info, sizeof(info), NLMSG_ALIGNTO) < 0 ||
      nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0) {
    return absl::InternalError(absl::StrCat("building the request for link ", name, " failed"));
  }
  return msg;
}

}  // namespace

absl::Status SetLinkUp(const RouteSocket& sock, const std::string& name, bool up) {
  auto msg = SetLinkRequest(name, up ? IFF_UP : 0, IFF_UP);
  if (!msg.ok()) {
    return msg.status();
  }
  return NlStatus(absl::StrCat("set ", name, up ? " up" : " down"),
                  SendAndWaitForAck(sock, msg->get()));
}

absl::Status DisableLinkLocal(const RouteSocket& sock, const std::string& name) {
  auto msg = SetLinkRequest(name, 0, 0);
  if (!msg.ok()) {
    return msg.status();
  }
  nlattr* spec = nla_nest_start(msg->get(), IFLA_AF_SPEC);
  nlattr* inet6 = nla_nest_start(msg->get(), AF_INET6);
  if (spec == nullptr || inet6 == nullptr ||
      nla_put_u8(msg->get(), IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) < 0) {
    return absl::InternalError(absl::StrCat("building the addr_gen_mode request for ", name));
  }
  nla_nest_end(msg->get(), inet6);
  nla_nest_end(msg->get(), spec);
  int err = SendAndWaitForAck(sock, msg->get());
  if (err == -NLE_AF_NOSUPPORT) {
    return absl::OkStatus();  // no IPv6 on this link at all (an MTU below 1280)
  }
  return NlStatus(absl::StrCat("turn off IPv6 link-local addresses of ", name), err);
}

namespace {

absl::Status SetEthtoolValue(const RouteSocket& sock, const std::string& name, uint32_t command,
                             uint32_t data, const char* what) {
  ethtool_value value{.cmd = command, .data = data};
  ifreq request{};
  if (name.size() >= sizeof(request.ifr_name)) {
    return absl::InvalidArgumentError(absl::StrCat("interface name ", name, " is too long"));
  }
  name.copy(request.ifr_name, name.size());
  request.ifr_data = reinterpret_cast<char*>(&value);
  // Any socket of the namespace takes device ioctls; the netlink one is at hand.
  if (::ioctl(nl_socket_get_fd(sock.get()), SIOCETHTOOL, &request) != 0) {
    return ErrnoStatus(absl::StrCat(what, " of ", name), errno);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnableGro(const RouteSocket& sock, const std::string& name) {
  return SetEthtoolValue(sock, name, ETHTOOL_SGRO, 1, "turn on GRO");
}

absl::Status DisableTso(const RouteSocket& sock, const std::string& name) {
  return SetEthtoolValue(sock, name, ETHTOOL_STSO, 0, "turn off TSO");
}

absl::Status SetMaster(const RouteSocket& sock, const std::string& port,
                       const std::string& master) {
  // A bridge's own description names no peer namespace, so reading it stays cheap.
  auto master_link = GetLink(sock, master);
  if (!master_link.ok()) {
    return master_link.status();
  }
  auto msg = SetLinkRequest(port, 0, 0);
  if (!msg.ok()) {
    return msg.status();
  }
  if (nla_put_u32(msg->get(), IFLA_MASTER,
                  static_cast<uint32_t>(rtnl_link_get_ifindex(master_link->get()))) < 0) {
    return absl::InternalError(absl::StrCat("building the request to attach ", port));
  }
  return NlStatus(absl::StrCat("attach ", port, " to ", master),
                  SendAndWaitForAck(sock, msg->get()));
}

absl::Status DeleteLink(const RouteSocket& sock, const std::string& name) {
  LinkPtr link(rtnl_link_alloc());
  rtnl_link_set_name(link.get(), name.c_str());
  return NlStatus(absl::StrCat("delete link ", name), rtnl_link_delete(sock.get(), link.get()));
}

absl::StatusOr<std::vector<LinkInfo>> ListLinks(const RouteSocket& sock) {
  nl_cache* raw_links = nullptr;
  if (int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw_links); err < 0) {
    return NlStatus("dump links", err);
  }
  CachePtr links(raw_links);
  nl_cache* raw_addrs = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock.get(), &raw_addrs); err < 0) {
    return NlStatus("dump addresses", err);
  }
  CachePtr addrs(raw_addrs);

  std::vector<LinkInfo> result;
  for (nl_object* obj = nl_cache_get_first(links.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* link = reinterpret_cast<rtnl_link*>(obj);
    LinkInfo info;
    info.name = rtnl_link_get_name(link);
    info.ifindex = rtnl_link_get_ifindex(link);
    const char* type = rtnl_link_get_type(link);
    info.kind = type != nullptr ? type : "";
    if (nl_addr* mac = rtnl_link_get_addr(link); mac != nullptr) {
      info.mac = FormatAddr(mac);
    }
    info.mtu = rtnl_link_get_mtu(link);
    const unsigned flags = rtnl_link_get_flags(link);
    info.up = (flags & IFF_UP) != 0;
    info.carrier = (flags & IFF_LOWER_UP) != 0;
    info.oper_up = rtnl_link_get_operstate(link) == IF_OPER_UP;
    info.master_ifindex = rtnl_link_get_master(link);
    result.push_back(std::move(info));
  }
  // By ifindex: a bridge with thousands of ports has thousands of addresses to place.
  std::unordered_map<int, size_t> position;
  for (size_t i = 0; i < result.size(); ++i) {
    position.emplace(result[i].ifindex, i);
  }
  for (nl_object* obj = nl_cache_get_first(addrs.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(obj);
    auto it = position.find(rtnl_addr_get_ifindex(addr));
    if (it != position.end() && rtnl_addr_get_local(addr) != nullptr) {
      result[it->second].addresses.push_back(FormatAddr(rtnl_addr_get_local(addr)));
    }
  }
  std::sort(result.begin(), result.end(),
            [](const LinkInfo& x, const LinkInfo& y) { return x.ifindex < y.ifindex; });
  return result;
}

absl::StatusOr<std::vector<BridgePortInfo>> ListBridgePorts(const RouteSocket& sock) {
  nl_cache* raw_ports = nullptr;
  if (int err = rtnl_link_alloc_cache(sock.get(), AF_BRIDGE, &raw_ports); err < 0) {
    return NlStatus("dump bridge ports", err);
  }
  CachePtr ports(raw_ports);
  std::vector<BridgePortInfo> result;
  for (nl_object* obj = nl_cache_get_first(ports.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* port = reinterpret_cast<rtnl_link*>(obj);
    const unsigned flags = rtnl_link_get_flags(port);
    result.push_back({.name = rtnl_link_get_name(port),
                      .up = (flags & IFF_UP) != 0,
                      .carrier = (flags & IFF_LOWER_UP) != 0,
                      .oper_up = rtnl_link_get_operstate(port) == IF_OPER_UP});
  }
  return result;
}

}  // namespace nslab::netlink
