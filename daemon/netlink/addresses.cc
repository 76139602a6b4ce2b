#include "daemon/netlink/addresses.h"

#include <linux/if_addr.h>
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include <memory>

#include "absl/status/statusor.h"

#include "absl/strings/str_cat.h"

namespace nslab::netlink {

namespace {

using AddrPtr = std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)>;

absl::StatusOr<AddrPtr> MakeAddress(const RouteSocket& sock, const std::string& ifname,
                                    const std::string& cidr, const std::string& what) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sock.get(), 0, ifname.c_str(), &link); err < 0) {
    return NlStatus(what, err);
  }
  std::unique_ptr<rtnl_link, void (*)(rtnl_link*)> link_owner(link, rtnl_link_put);

  nl_addr* local = nullptr;
  if (nl_addr_parse(cidr.c_str(), AF_UNSPEC, &local) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not an address"));
  }
  std::unique_ptr<nl_addr, void (*)(nl_addr*)> local_owner(local, nl_addr_put);

  AddrPtr addr(rtnl_addr_alloc(), rtnl_addr_put);
  rtnl_addr_set_ifindex(addr.get(), rtnl_link_get_ifindex(link));
  if (int err = rtnl_addr_set_local(addr.get(), local); err < 0) {
    return NlStatus(what, err);
  }
  if (nl_addr_get_family(local) == AF_INET6) {
    rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  }
  return addr;
}

}  // namespace

absl::Status AddAddress(const RouteSocket& sock, const std::string& ifname,
                        const std::string& cidr) {
  const std::string what = absl::StrCat("add address ", cidr, " to ", ifname);
  auto addr = MakeAddress(sock, ifname, cidr, what);
  if (!addr.ok()) {
    return addr.status();
  }
  return NlStatus(what, rtnl_addr_add(sock.get(), addr->get(), 0));
}

absl::Status DeleteAddress(const RouteSocket& sock, const std::string& ifname,
                           const std::string& cidr) {
  const std::string what = absl::StrCat("delete address ", cidr, " from ", ifname);
  auto addr = MakeAddress(sock, ifname, cidr, what);
  if (!addr.ok()) {
    return addr.status();
  }
  const int err = rtnl_addr_delete(sock.get(), addr->get(), 0);
  return err == -NLE_NOADDR || err == -NLE_OBJ_NOTFOUND ? absl::OkStatus() : NlStatus(what, err);
}

}  // namespace nslab::netlink
