#include "daemon/diag/kernel_tables.h"

#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/sockios.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

struct CacheFree {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;

// Every table below names interfaces by index; this is the dump that turns them into names.
absl::StatusOr<CachePtr> DumpLinks(nl_sock* sock) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock, AF_UNSPEC, &raw); err < 0) {
    return netlink::NlStatus("dump links", err);
  }
  return CachePtr(raw);
}

std::string FormatAddr(nl_addr* addr) {
  char buf[128];
  return nl_addr2str(addr, buf, sizeof(buf));
}

// A datagram socket in the namespace: SIOCETHTOOL resolves names in the socket's own.
absl::StatusOr<UniqueFd> IoctlSocket(int netns_fd) {
  UniqueFd fd;
  auto status = netns::RunIn(netns_fd, [&] {
    fd = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    return fd.valid() ? absl::OkStatus() : ErrnoStatus("socket for ethtool", errno);
  });
  if (!status.ok()) {
    return status;
  }
  return fd;
}

bool Ethtool(int fd, const std::string& name, void* data) {
  ifreq request{};
  name.copy(request.ifr_name, IFNAMSIZ - 1);
  request.ifr_data = static_cast<char*>(data);
  return ::ioctl(fd, SIOCETHTOOL, &request) == 0;
}

void AddEthtool(int fd, nslab::v1::LinkStats* link) {
  ethtool_ringparam ring{};
  ring.cmd = ETHTOOL_GRINGPARAM;
  if (Ethtool(fd, link->name(), &ring)) {
    link->mutable_ring()->set_rx(ring.rx_pending);
    link->mutable_ring()->set_tx(ring.tx_pending);
    link->mutable_ring()->set_rx_max(ring.rx_max_pending);
    link->mutable_ring()->set_tx_max(ring.tx_max_pending);
  }
  // ethtool -S: the count of strings, the names, then the values.
  // ethtool_sset_info ends in a flexible array: one u32 follows for the one set asked.
  alignas(ethtool_sset_info) char sset_buffer[sizeof(ethtool_sset_info) + sizeof(uint32_t)] = {};
  auto* sset = reinterpret_cast<ethtool_sset_info*>(sset_buffer);
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ull << ETH_SS_STATS;
  if (!Ethtool(fd, link->name(), sset) || sset->sset_mask == 0 || sset->data[0] == 0 ||
      sset->data[0] > 4096) {
    return;
  }
  const uint32_t count = sset->data[0];
  std::vector<char> strings(sizeof(ethtool_gstrings) + count * ETH_GSTRING_LEN);
  auto* gstrings = reinterpret_cast<ethtool_gstrings*>(strings.data());
  gstrings->cmd = ETHTOOL_GSTRINGS;
  gstrings->string_set = ETH_SS_STATS;
  gstrings->len = count;
  std::vector<char> values(sizeof(ethtool_stats) + count * sizeof(uint64_t));
  auto* stats = reinterpret_cast<ethtool_stats*>(values.data());
  stats->cmd = ETHTOOL_GSTATS;
  stats->n_stats = count;
  if (!Ethtool(fd, link->name(), gstrings) || !Ethtool(fd, link->name(), stats)) {
    return;
  }
  for (uint32_t i = 0; i < count && i < stats->n_stats; ++i) {
    auto* counter = link->add_driver_counters();
    const char* name = reinterpret_cast<const char*>(gstrings->data) + i * ETH_GSTRING_LEN;
    counter->set_name(std::string(name, strnlen(name, ETH_GSTRING_LEN)));
    counter->set_value(stats->data[i]);
  }
}

std::string Handle(uint32_t handle) {
  if (handle == TC_H_ROOT) {
    return "root";
  }
  if (handle == TC_H_INGRESS) {
    return "ingress";
  }
  char buf[32];
  return rtnl_tc_handle2str(handle, buf, sizeof(buf));
}

std::string Rate(uint64_t bytes_per_second) {
  const uint64_t bits = bytes_per_second * 8;
  if (bits >= 1000000 && bits % 1000000 == 0) {
    return absl::StrCat(bits / 1000000, "Mbit");
  }
  if (bits >= 1000 && bits % 1000 == 0) {
    return absl::StrCat(bits / 1000, "Kbit");
  }
  return absl::StrCat(bits, "bit");
}

std::string Parameters(rtnl_qdisc* qdisc, const std::string& kind) {
  if (kind == "tbf") {
    return absl::StrCat("rate ", Rate(static_cast<uint32_t>(rtnl_qdisc_tbf_get_rate(qdisc))),
                        " burst ", rtnl_qdisc_tbf_get_rate_bucket(qdisc), "b limit ",
                        rtnl_qdisc_tbf_get_limit(qdisc), "b");
  }
  if (kind == "netem") {
    std::string text = absl::StrCat("limit ", rtnl_netem_get_limit(qdisc));
    if (const int delay = rtnl_netem_get_delay(qdisc); delay > 0) {
      absl::StrAppend(&text, " delay ", delay / 1000.0, "ms");
    }
    if (const int loss = rtnl_netem_get_loss(qdisc); loss > 0) {
      absl::StrAppend(&text, " loss ", loss * 100.0 / UINT32_MAX, "%");
    }
    return text;
  }
  return "";
}

}  // namespace

absl::StatusOr<nslab::v1::LinksResponse> ListLinkStats(int netns_fd) {
  auto sock = netlink::RouteSocket::OpenIn(netns_fd);
  if (!sock.ok()) {
    return sock.status();
  }
  absl::StatusOr<CachePtr> links = DumpLinks(sock->get());
  if (!links.ok()) {
    return links.status();
  }
  nl_cache* addr_raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock->get(), &addr_raw); err < 0) {
    return netlink::NlStatus("dump addresses", err);
  }
  CachePtr addrs(addr_raw);
  std::map<int, std::vector<std::string>> addresses;
  for (nl_object* obj = nl_cache_get_first(addrs.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(obj);
    if (nl_addr* local = rtnl_addr_get_local(addr); local != nullptr) {
      addresses[rtnl_addr_get_ifindex(addr)].push_back(FormatAddr(local));
    }
  }
  std::map<int, std::string> names;
  auto ioctl_fd = IoctlSocket(netns_fd);
  nslab::v1::LinksResponse list;
  for (nl_object* obj = nl_cache_get_first(links->get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* link = reinterpret_cast<rtnl_link*>(obj);
    names[rtnl_link_get_ifindex(link)] = rtnl_link_get_name(link);
  }
  for (nl_object* obj = nl_cache_get_first(links->get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* link = reinterpret_cast<rtnl_link*>(obj);
    auto* out = list.add_links();
    out->set_name(rtnl_link_get_name(link));
    out->set_ifindex(rtnl_link_get_ifindex(link));
    const char* type = rtnl_link_get_type(link);
    // Named as LabsService's InterfaceStatus names it: the loopback has no link type.
    const bool loopback = (rtnl_link_get_flags(link) & IFF_LOOPBACK) != 0;
    out->set_kind(type != nullptr ? type : loopback ? "loopback" : "");
    char buf[256];
    out->set_oper_state(rtnl_link_operstate2str(rtnl_link_get_operstate(link), buf, sizeof(buf)));
    rtnl_link_flags2str(static_cast<int>(rtnl_link_get_flags(link)), buf, sizeof(buf));
    for (absl::string_view flag : absl::StrSplit(buf, ',', absl::SkipEmpty())) {
      std::string upper(flag);
      for (char& c : upper) {
        c = static_cast<char>(c == '-' ? '_' : std::toupper(static_cast<unsigned char>(c)));
      }
      out->add_flags(upper == "LOWERUP" ? "LOWER_UP" : upper);
    }
    out->set_mtu(rtnl_link_get_mtu(link));
    if (nl_addr* mac = rtnl_link_get_addr(link); mac != nullptr) {
      out->set_mac(FormatAddr(mac));
    }
    if (const char* qdisc = rtnl_link_get_qdisc(link); qdisc != nullptr) {
      out->set_qdisc(qdisc);
    }
    out->set_tx_queue_len(rtnl_link_get_txqlen(link));
    if (int master = rtnl_link_get_master(link); master != 0) {
      out->set_master(names.count(master) != 0 ? names[master] : std::to_string(master));
    }
    auto* c = out->mutable_counters();
    c->set_rx_bytes(rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES));
    c->set_rx_packets(rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS));
    c->set_rx_errors(rtnl_link_get_stat(link, RTNL_LINK_RX_ERRORS));
    c->set_rx_dropped(rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED));
    c->set_rx_missed_errors(rtnl_link_get_stat(link, RTNL_LINK_RX_MISSED_ERR));
    c->set_rx_fifo_errors(rtnl_link_get_stat(link, RTNL_LINK_RX_FIFO_ERR));
    c->set_rx_over_errors(rtnl_link_get_stat(link, RTNL_LINK_RX_OVER_ERR));
    c->set_rx_crc_errors(rtnl_link_get_stat(link, RTNL_LINK_RX_CRC_ERR));
    c->set_rx_frame_errors(rtnl_link_get_stat(link, RTNL_LINK_RX_FRAME_ERR));
    c->set_multicast(rtnl_link_get_stat(link, RTNL_LINK_MULTICAST));
    c->set_tx_bytes(rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES));
    c->set_tx_packets(rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS));
    c->set_tx_errors(rtnl_link_get_stat(link, RTNL_LINK_TX_ERRORS));
    c->set_tx_dropped(rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED));
    c->set_tx_fifo_errors(rtnl_link_get_stat(link, RTNL_LINK_TX_FIFO_ERR));
    c->set_tx_carrier_errors(rtnl_link_get_stat(link, RTNL_LINK_TX_CARRIER_ERR));
    c->set_collisions(rtnl_link_get_stat(link, RTNL_LINK_COLLISIONS));
    for (const auto& address : addresses[out->ifindex()]) {
      out->add_addresses(address);
    }
    if (ioctl_fd.ok()) {
      AddEthtool(ioctl_fd->get(), out);
    }
  }
  return list;
}

absl::StatusOr<nslab::v1::QdiscsResponse> ListQdiscs(int netns_fd, const std::string& interface) {
  auto sock = netlink::RouteSocket::OpenIn(netns_fd);
  if (!sock.ok()) {
    return sock.status();
  }
  absl::StatusOr<CachePtr> links = DumpLinks(sock->get());
  if (!links.ok()) {
    return links.status();
  }
  int only = 0;
  if (!interface.empty()) {
    only = rtnl_link_name2i(links->get(), interface.c_str());
    if (only == 0) {
      return absl::NotFoundError(
          absl::StrCat("interface ", interface, ": no such interface in the node"));
    }
  }
  nl_cache* raw = nullptr;
  if (int err = rtnl_qdisc_alloc_cache(sock->get(), &raw); err < 0) {
    return netlink::NlStatus("dump qdiscs", err);
  }
  CachePtr qdiscs(raw);
  nslab::v1::QdiscsResponse list;
  for (nl_object* obj = nl_cache_get_first(qdiscs.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* qdisc = reinterpret_cast<rtnl_qdisc*>(obj);
    auto* tc = TC_CAST(qdisc);
    const int ifindex = rtnl_tc_get_ifindex(tc);
    if (only != 0 && ifindex != only) {
      continue;
    }
    auto* out = list.add_qdiscs();
    char name[IFNAMSIZ + 1] = {};
    rtnl_link_i2name(links->get(), ifindex, name, sizeof(name));
    out->set_interface(name);
    const char* kind = rtnl_tc_get_kind(tc);
    out->set_kind(kind != nullptr ? kind : "");
    char buf[32];
    const uint32_t handle = rtnl_tc_get_handle(tc);
    out->set_handle(handle == 0 ? "0:" : rtnl_tc_handle2str(handle, buf, sizeof(buf)));
    out->set_parent(Handle(rtnl_tc_get_parent(tc)));
    out->set_parameters(Parameters(qdisc, out->kind()));
    out->set_sent_bytes(rtnl_tc_get_stat(tc, RTNL_TC_BYTES));
    out->set_sent_packets(rtnl_tc_get_stat(tc, RTNL_TC_PACKETS));
    out->set_dropped(rtnl_tc_get_stat(tc, RTNL_TC_DROPS));
    out->set_overlimits(rtnl_tc_get_stat(tc, RTNL_TC_OVERLIMITS));
    out->set_requeues(rtnl_tc_get_stat(tc, RTNL_TC_REQUEUES));
    out->set_backlog_bytes(rtnl_tc_get_stat(tc, RTNL_TC_BACKLOG));
    out->set_backlog_packets(rtnl_tc_get_stat(tc, RTNL_TC_QLEN));
  }
  return list;
}

absl::StatusOr<nslab::v1::NeighboursResponse> ListNeighbours(int netns_fd) {
  auto sock = netlink::RouteSocket::OpenIn(netns_fd);
  if (!sock.ok()) {
    return sock.status();
  }
  absl::StatusOr<CachePtr> links = DumpLinks(sock->get());
  if (!links.ok()) {
    return links.status();
  }
  nl_cache* raw = nullptr;
  if (int err = rtnl_neigh_alloc_cache(sock->get(), &raw); err < 0) {
    return netlink::NlStatus("dump neighbours", err);
  }
  CachePtr neighbours(raw);
  nslab::v1::NeighboursResponse list;
  for (nl_object* obj = nl_cache_get_first(neighbours.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* neigh = reinterpret_cast<rtnl_neigh*>(obj);
    const int family = rtnl_neigh_get_family(neigh);
    if (family != AF_INET && family != AF_INET6) {
      continue;  // bridge fdb entries of switch nodes are not neighbours
    }
    auto* out = list.add_neighbours();
    if (nl_addr* dst = rtnl_neigh_get_dst(neigh); dst != nullptr) {
      out->set_address(FormatAddr(dst));
    }
    char name[IFNAMSIZ + 1] = {};
    rtnl_link_i2name(links->get(), rtnl_neigh_get_ifindex(neigh), name, sizeof(name));
    out->set_interface(name);
    if (nl_addr* lladdr = rtnl_neigh_get_lladdr(neigh); lladdr != nullptr) {
      out->set_lladdr(FormatAddr(lladdr));
    }
    char state[64];
    std::string text = rtnl_neigh_state2str(rtnl_neigh_get_state(neigh), state, sizeof(state));
    for (char& c : text) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    out->set_state(text);
    out->set_router((rtnl_neigh_get_flags(neigh) & NTF_ROUTER) != 0);
  }
  return list;
}

}  // namespace nslab::diag
