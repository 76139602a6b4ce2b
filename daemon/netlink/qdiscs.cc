#include "daemon/netlink/qdiscs.h"

#include <linux/pkt_sched.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace nslab::netlink {

absl::Status ProbeRootQdisc(const RouteSocket& sock, const std::string& ifname,
                            const std::string& kind) {
  const std::string what = absl::StrCat("add ", kind, " qdisc on ", ifname);
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sock.get(), 0, ifname.c_str(), &link); err < 0) {
    return NlStatus(what, err);
  }
  std::unique_ptr<rtnl_link, void (*)(rtnl_link*)> link_owner(link, rtnl_link_put);

  std::unique_ptr<rtnl_qdisc, void (*)(rtnl_qdisc*)> qdisc(rtnl_qdisc_alloc(), rtnl_qdisc_put);
  rtnl_tc* tc = TC_CAST(qdisc.get());
  rtnl_tc_set_ifindex(tc, rtnl_link_get_ifindex(link));
  rtnl_tc_set_parent(tc, TC_H_ROOT);
  rtnl_tc_set_handle(tc, TC_HANDLE(1, 0));
  if (int err = rtnl_tc_set_kind(tc, kind.c_str()); err < 0) {
    return NlStatus(what, err);
  }
  if (kind == "netem") {
    rtnl_netem_set_delay(qdisc.get(), 1000);
  } else if (kind == "tbf") {
    rtnl_qdisc_tbf_set_limit(qdisc.get(), 10000);
    rtnl_qdisc_tbf_set_rate(qdisc.get(), 1000000 / 8, 10000, 0);
  } else if (kind == "htb") {
    rtnl_htb_set_defcls(qdisc.get(), 0);
  }
  int err = rtnl_qdisc_add(sock.get(), qdisc.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) {
    return NlStatus(what, err);
  }
  return NlStatus(absl::StrCat("delete ", kind, " qdisc on ", ifname),
                  rtnl_qdisc_delete(sock.get(), qdisc.get()));
}

}  // namespace nslab::netlink
