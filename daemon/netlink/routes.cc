#include "daemon/netlink/routes.h"

#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"

namespace nslab::netlink {
namespace {

using AddrPtr = std::unique_ptr<nl_addr, void (*)(nl_addr*)>;

absl::StatusOr<AddrPtr> ParseAddr(const std::string& text, int family) {
  nl_addr* addr = nullptr;
  if (nl_addr_parse(text.c_str(), family, &addr) < 0) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not an address"));
  }
  return AddrPtr(addr, nl_addr_put);
}

int FamilyOf(const std::string& text) {
  return text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
}

absl::StatusOr<int> IfindexOf(const RouteSocket& sock, const std::string& name) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sock.get(), 0, name.c_str(), &link); err < 0) {
    return NlStatus(absl::StrCat("find interface ", name), err);
  }
  const int ifindex = rtnl_link_get_ifindex(link);
  rtnl_link_put(link);
  return ifindex;
}

uint8_t RouteType(RouteKind kind) {
  switch (kind) {
    case RouteKind::kBlackhole:
      return RTN_BLACKHOLE;
    case RouteKind::kUnreachable:
      return RTN_UNREACHABLE;
    case RouteKind::kProhibit:
      return RTN_PROHIBIT;
    case RouteKind::kUnicast:
      break;
  }
  return RTN_UNICAST;
}

}  // namespace

namespace {

using RoutePtr = std::unique_ptr<rtnl_route, void (*)(rtnl_route*)>;

// The route as netlink says it; `what` starts every error.
absl::StatusOr<RoutePtr> MakeRoute(const RouteSocket& sock, const RouteSpec& spec,
                                   const std::string& what) {
  int family = AF_INET;
  if (spec.to != "default") {
    family = FamilyOf(spec.to);
  } else {
    for (const auto& hop : spec.nexthops) {
      if (!hop.via.empty()) {
        family = FamilyOf(hop.via);
      }
    }
  }
  RoutePtr route(rtnl_route_alloc(), rtnl_route_put);
  rtnl_route_set_family(route.get(), family);
  auto dst = ParseAddr(spec.to == "default" ? (family == AF_INET6 ? "::/0" : "0.0.0.0/0") : spec.to,
                       family);
  if (!dst.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", dst.status().message()));
  }
  rtnl_route_set_dst(route.get(), dst->get());
  rtnl_route_set_type(route.get(), RouteType(spec.kind));
  rtnl_route_set_table(route.get(), spec.table == 0 ? RT_TABLE_MAIN : spec.table);
  rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
  if (spec.metric != 0) {
    rtnl_route_set_priority(route.get(), spec.metric);
  }
  for (const auto& hop : spec.nexthops) {
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!hop.via.empty()) {
      auto gw = ParseAddr(hop.via, family);
      if (!gw.ok()) {
        rtnl_route_nh_free(nh);
        return absl::InvalidArgumentError(absl::StrCat(what, ": ", gw.status().message()));
      }
      rtnl_route_nh_set_gateway(nh, gw->get());
    }
    if (!hop.dev.empty()) {
      auto ifindex = IfindexOf(sock, hop.dev);
      if (!ifindex.ok()) {
        rtnl_route_nh_free(nh);
        return ifindex.status();
      }
      rtnl_route_nh_set_ifindex(nh, *ifindex);
    }
    if (spec.nexthops.size() > 1) {
      // The kernel's weight is rtnh_hops + 1; libnl writes the weight into rtnh_hops.
      rtnl_route_nh_set_weight(nh, static_cast<uint8_t>(hop.weight == 0 ? 0 : hop.weight - 1));
    }
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns it now
  }
  return route;
}

absl::Status WriteRoute(const RouteSocket& sock, const RouteSpec& spec, int flags) {
  const std::string what = absl::StrCat("add route to ", spec.to);
  auto route = MakeRoute(sock, spec, what);
  if (!route.ok()) {
    return route.status();
  }
  return NlStatus(what, rtnl_route_add(sock.get(), route->get(), flags));
}

}  // namespace

absl::Status AddRoute(const RouteSocket& sock, const RouteSpec& spec) {
  return WriteRoute(sock, spec, NLM_F_EXCL);
}

absl::Status ReplaceRoute(const RouteSocket& sock, const RouteSpec& spec) {
  return WriteRoute(sock, spec, NLM_F_REPLACE);
}

absl::Status DeleteRoute(const RouteSocket& sock, const RouteSpec& spec) {
  const std::string what = absl::StrCat("delete route to ", spec.to);
  auto route = MakeRoute(sock, spec, what);
  if (absl::IsNotFound(route.status())) {
    return absl::OkStatus();  // its interface is gone, and the route went with it
  }
  if (!route.ok()) {
    return route.status();
  }
  const int err = rtnl_route_delete(sock.get(), route->get(), 0);
  return err == -NLE_OBJ_NOTFOUND ? absl::OkStatus() : NlStatus(what, err);
}

namespace {

using RulePtr = std::unique_ptr<rtnl_rule, void (*)(rtnl_rule*)>;

absl::StatusOr<RulePtr> MakeRule(const RuleSpec& spec) {
  int family = spec.ipv6 ? AF_INET6 : AF_INET;
  if (!spec.from.empty()) {
    family = FamilyOf(spec.from);
  } else if (!spec.to.empty()) {
    family = FamilyOf(spec.to);
  }
  RulePtr rule(rtnl_rule_alloc(), rtnl_rule_put);
  rtnl_rule_set_family(rule.get(), family);
  rtnl_rule_set_action(rule.get(), FR_ACT_TO_TBL);
  rtnl_rule_set_table(rule.get(), spec.table);
  if (!spec.from.empty()) {
    auto from = ParseAddr(spec.from, family);
    if (!from.ok()) {
      return from.status();
    }
    rtnl_rule_set_src(rule.get(), from->get());
  }
  if (!spec.to.empty()) {
    auto to = ParseAddr(spec.to, family);
    if (!to.ok()) {
      return to.status();
    }
    rtnl_rule_set_dst(rule.get(), to->get());
  }
  if (spec.fwmark != 0) {
    rtnl_rule_set_mark(rule.get(), spec.fwmark);
  }
  if (!spec.iif.empty()) {
    rtnl_rule_set_iif(rule.get(), spec.iif.c_str());
  }
  if (spec.priority != 0) {
    rtnl_rule_set_prio(rule.get(), spec.priority);
  }
  return rule;
}

}  // namespace

absl::Status AddRule(const RouteSocket& sock, const RuleSpec& spec) {
  const std::string what = absl::StrCat("add rule to table ", spec.table);
  auto rule = MakeRule(spec);
  if (!rule.ok()) {
    return rule.status();
  }
  return NlStatus(what, rtnl_rule_add(sock.get(), rule->get(), NLM_F_CREATE));
}

absl::Status DeleteRule(const RouteSocket& sock, const RuleSpec& spec) {
  const std::string what = absl::StrCat("delete rule to table ", spec.table);
  auto rule = MakeRule(spec);
  if (!rule.ok()) {
    return rule.status();
  }
  const int err = rtnl_rule_delete(sock.get(), rule->get(), 0);
  return err == -NLE_OBJ_NOTFOUND ? absl::OkStatus() : NlStatus(what, err);
}

absl::Status WriteSysctl(const std::string& key, const std::string& value) {
  const std::string path = absl::StrCat("/proc/sys/", absl::StrReplaceAll(key, {{".", "/"}}));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return absl::InvalidArgumentError(absl::StrCat("no such sysctl ", key));
    }
    return ErrnoStatus(absl::StrCat("open ", path), errno);
  }
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return ErrnoStatus(absl::StrCat("set ", key, " = ", value), errno);
  }
  return absl::OkStatus();
}

}  // namespace nslab::netlink
