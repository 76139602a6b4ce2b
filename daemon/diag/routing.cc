#include "daemon/diag/routing.h"

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "daemon/diag/netlink_request.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

struct Address {
  int family = AF_UNSPEC;
  unsigned char bytes[16] = {};
  size_t size() const { return family == AF_INET ? 4 : 16; }
};

absl::StatusOr<Address> ParseAddress(const std::string& text, const char* what) {
  Address address;
  if (::inet_pton(AF_INET, text.c_str(), address.bytes) == 1) {
    address.family = AF_INET;
  } else if (::inet_pton(AF_INET6, text.c_str(), address.bytes) == 1) {
    address.family = AF_INET6;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", text, "\" is not an IPv4 or IPv6 address"));
  }
  return address;
}

std::string FormatAddress(int family, const void* data) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, data, text, sizeof(text));
  return text;
}

std::string TypeName(unsigned type) {
  switch (type) {
    case RTN_UNICAST:
      return "unicast";
    case RTN_LOCAL:
      return "local";
    case RTN_BROADCAST:
      return "broadcast";
    case RTN_ANYCAST:
      return "anycast";
    case RTN_MULTICAST:
      return "multicast";
    case RTN_BLACKHOLE:
      return "blackhole";
    case RTN_UNREACHABLE:
      return "unreachable";
    case RTN_PROHIBIT:
      return "prohibit";
    case RTN_THROW:
      return "throw";
    case RTN_NAT:
      return "nat";
    default:
      return absl::StrCat("type-", type);
  }
}

std::string ProtocolName(unsigned protocol) {
  switch (protocol) {
    case RTPROT_KERNEL:
      return "kernel";
    case RTPROT_BOOT:
      return "boot";
    case RTPROT_STATIC:
      return "static";
    case RTPROT_RA:
      return "ra";
    case RTPROT_DHCP:
      return "dhcp";
    default:
      return std::to_string(protocol);
  }
}

std::string ScopeName(unsigned scope) {
  switch (scope) {
    case RT_SCOPE_UNIVERSE:
      return "global";
    case RT_SCOPE_SITE:
      return "site";
    case RT_SCOPE_LINK:
      return "link";
    case RT_SCOPE_HOST:
      return "host";
    case RT_SCOPE_NOWHERE:
      return "nowhere";
    default:
      return std::to_string(scope);
  }
}

std::string TableName(uint32_t table) {
  switch (table) {
    case RT_TABLE_MAIN:
      return "main";
    case RT_TABLE_LOCAL:
      return "local";
    case RT_TABLE_DEFAULT:
      return "default";
    default:
      return std::to_string(table);
  }
}

uint32_t U32(const void* data) {
  uint32_t value;
  memcpy(&value, data, sizeof(value));
  return value;
}

// ifindex -> name in the namespace (names are per namespace, so resolved inside it).
std::map<int, std::string> InterfaceNames(int netns_fd) {
  std::map<int, std::string> names;
  (void)netns::RunIn(netns_fd, [&] {
    if (struct if_nameindex* list = ::if_nameindex(); list != nullptr) {
      for (auto* it = list; it->if_index != 0; ++it) {
        names[static_cast<int>(it->if_index)] = it->if_name;
      }
      ::if_freenameindex(list);
    }
    return absl::OkStatus();
  });
  return names;
}

std::string NameOf(const std::map<int, std::string>& names, int index) {
  auto it = names.find(index);
  return it != names.end() ? it->second : absl::StrCat("if", index);
}

// One route message, decoded.
nslab::v1::RouteEntry DecodeRoute(const nlmsghdr* header, const std::map<int, std::string>& names,
                                  uint32_t* mark = nullptr, uint32_t* mtu = nullptr,
                                  std::string* iif = nullptr, std::string* src = nullptr) {
  const auto* rtm = static_cast<const rtmsg*>(NLMSG_DATA(header));
  nslab::v1::RouteEntry entry;
  entry.set_family(rtm->rtm_family == AF_INET6 ? "inet6" : "inet");
  entry.set_type(TypeName(rtm->rtm_type));
  entry.set_table(rtm->rtm_table);
  entry.set_protocol(ProtocolName(rtm->rtm_protocol));
  entry.set_scope(ScopeName(rtm->rtm_scope));
  std::string destination = "default";
  ForEachAttribute(header, sizeof(rtmsg), [&](uint16_t type, const void* data, size_t len) {
    switch (type) {
      case RTA_DST:
        destination = FormatAddress(rtm->rtm_family, data);
        break;
      case RTA_SRC:
        if (src != nullptr) {
          *src = FormatAddress(rtm->rtm_family, data);
        }
        break;
      case RTA_GATEWAY:
        entry.set_gateway(FormatAddress(rtm->rtm_family, data));
        break;
      case RTA_OIF:
        entry.set_output_interface(NameOf(names, static_cast<int>(U32(data))));
        break;
      case RTA_IIF:
        if (iif != nullptr) {
          *iif = NameOf(names, static_cast<int>(U32(data)));
        }
        break;
      case RTA_PREFSRC:
        entry.set_preferred_source(FormatAddress(rtm->rtm_family, data));
        break;
      case RTA_PRIORITY:
        entry.set_metric(U32(data));
        break;
      case RTA_TABLE:
        entry.set_table(U32(data));
        break;
      case RTA_MARK:
        if (mark != nullptr) {
          *mark = U32(data);
        }
        break;
      case RTA_METRICS:
        if (mtu != nullptr) {
          ForEachNested(data, len, [&](uint16_t metric, const void* value, size_t) {
            if (metric == RTAX_MTU) {
              *mtu = U32(value);
            }
          });
        }
        break;
      case RTA_MULTIPATH: {
        int left = static_cast<int>(len);
        for (auto* hop = static_cast<const rtnexthop*>(data); RTNH_OK(hop, left);
             left -= RTNH_ALIGN(hop->rtnh_len), hop = RTNH_NEXT(hop)) {
          std::string text;
          ForEachNested(RTNH_DATA(hop), hop->rtnh_len - sizeof(rtnexthop),
                        [&](uint16_t t, const void* d, size_t) {
                          if (t == RTA_GATEWAY) {
                            text = absl::StrCat("via ", FormatAddress(rtm->rtm_family, d), " ");
                          }
                        });
          absl::StrAppend(&text, "dev ", NameOf(names, hop->rtnh_ifindex), " weight ",
                          hop->rtnh_hops + 1);
          entry.add_nexthops(text);
        }
        break;
      }
      default:
        break;
    }
  });
  if (destination != "default" || rtm->rtm_dst_len != 0) {
    const bool host = rtm->rtm_dst_len == (rtm->rtm_family == AF_INET6 ? 128 : 32);
    entry.set_destination(host ? destination : absl::StrCat(destination, "/", rtm->rtm_dst_len));
  } else {
    entry.set_destination("default");
  }
  // The line `ip route show table all` prints.
  std::string text;
  if (rtm->rtm_type != RTN_UNICAST) {
    absl::StrAppend(&text, entry.type(), " ");
  }
  absl::StrAppend(&text, entry.destination());
  if (!entry.gateway().empty()) {
    absl::StrAppend(&text, " via ", entry.gateway());
  }
  if (!entry.output_interface().empty()) {
    absl::StrAppend(&text, " dev ", entry.output_interface());
  }
  if (entry.table() != RT_TABLE_MAIN) {
    absl::StrAppend(&text, " table ", TableName(entry.table()));
  }
  if (rtm->rtm_protocol != RTPROT_BOOT && rtm->rtm_protocol != RTPROT_UNSPEC) {
    absl::StrAppend(&text, " proto ", entry.protocol());
  }
  if (rtm->rtm_scope != RT_SCOPE_UNIVERSE) {
    absl::StrAppend(&text, " scope ", entry.scope());
  }
  if (!entry.preferred_source().empty()) {
    absl::StrAppend(&text, " src ", entry.preferred_source());
  }
  if (entry.metric() != 0) {
    absl::StrAppend(&text, " metric ", entry.metric());
  }
  for (const auto& hop : entry.nexthops()) {
    absl::StrAppend(&text, " nexthop ", hop);
  }
  entry.set_text(text);
  return entry;
}

std::string RuleAction(unsigned action) {
  switch (action) {
    case FR_ACT_TO_TBL:
      return "lookup";
    case FR_ACT_GOTO:
      return "goto";
    case FR_ACT_NOP:
      return "nop";
    case FR_ACT_BLACKHOLE:
      return "blackhole";
    case FR_ACT_UNREACHABLE:
      return "unreachable";
    case FR_ACT_PROHIBIT:
      return "prohibit";
    default:
      return std::to_string(action);
  }
}

// Whether `address` falls in `destination` ("default", "a.b.c.d/len" or a host).
int PrefixMatch(const Address& address, const std::string& destination) {
  if (destination == "default") {
    return 0;
  }
  const size_t slash = destination.find('/');
  auto network = ParseAddress(destination.substr(0, slash), "route");
  if (!network.ok() || network->family != address.family) {
    return -1;
  }
  const int bits = slash == std::string::npos ? static_cast<int>(address.size() * 8)
                                              : std::atoi(destination.c_str() + slash + 1);
  for (int i = 0; i < bits; ++i) {
    const int mask = 0x80 >> (i % 8);
    if ((address.bytes[i / 8] & mask) != (network->bytes[i / 8] & mask)) {
      return -1;
    }
  }
  return bits;
}

}  // namespace

absl::StatusOr<nslab::v1::RouteGetResponse> GetRoute(int netns_fd, const RouteQuery& query) {
  auto destination = ParseAddress(query.destination, "destination");
  if (!destination.ok()) {
    return destination.status();
  }
  Address source;
  if (!query.source.empty()) {
    auto parsed = ParseAddress(query.source, "from");
    if (!parsed.ok()) {
      return parsed.status();
    }
    if (parsed->family != destination->family) {
      return absl::InvalidArgumentError(absl::StrCat(
          "from ", query.source, " and ", query.destination, " are of different address families"));
    }
    source = *parsed;
  }
  const auto names = InterfaceNames(netns_fd);
  int iif = 0;
  if (!query.input_interface.empty()) {
    for (const auto& [index, name] : names) {
      if (name == query.input_interface) {
        iif = index;
      }
    }
    if (iif == 0) {
      return absl::NotFoundError(
          absl::StrCat("iif ", query.input_interface, ": no such interface in the node"));
    }
    if (query.source.empty()) {
      return absl::InvalidArgumentError(
          "iif needs from: a forwarded packet's decision depends on its source address");
    }
  }
  auto channel = NetlinkChannel::OpenIn(netns_fd, NETLINK_ROUTE);
  if (!channel.ok()) {
    return channel.status();
  }
  auto build = [&](uint32_t flags) {
    NetlinkMessage message(RTM_GETROUTE, 0);
    rtmsg rtm{};
    rtm.rtm_family = static_cast<unsigned char>(destination->family);
    rtm.rtm_dst_len = static_cast<unsigned char>(destination->size() * 8);
    rtm.rtm_src_len = query.source.empty() ? 0 : rtm.rtm_dst_len;
    rtm.rtm_flags = flags;
    message.AppendFixed(rtm);
    message.AddAttribute(RTA_DST, destination->bytes, destination->size());
    if (!query.source.empty()) {
      message.AddAttribute(RTA_SRC, source.bytes, source.size());
    }
    if (query.mark != 0) {
      message.AddU32(RTA_MARK, query.mark);
    }
    if (iif != 0) {
      message.AddU32(RTA_IIF, static_cast<uint32_t>(iif));
    }
    return message;
  };

  nslab::v1::RouteGetResponse decision;
  decision.set_destination(query.destination);
  decision.set_mark(query.mark);
  decision.set_input_interface(query.input_interface);
  auto lookup = build(RTM_F_LOOKUP_TABLE);
  auto err = channel->Transact(lookup, [&](const nlmsghdr* reply) {
    uint32_t mark = 0, mtu = 0;
    std::string input, src;
    auto entry = DecodeRoute(reply, names, &mark, &mtu, &input, &src);
    decision.set_type(entry.type());
    decision.set_gateway(entry.gateway());
    decision.set_output_interface(entry.output_interface());
    decision.set_preferred_source(entry.preferred_source());
    decision.set_table(entry.table());
    decision.set_mtu(mtu);
    decision.set_source(src);
    if (mark != 0) {
      decision.set_mark(mark);
    }
  });
  if (!err.ok()) {
    return err.status();
  }
  if (*err != 0) {
    decision.set_error(strerror(*err));
    // The kernel names the failing route type by its errno.
    switch (*err) {
      case EHOSTUNREACH:
        decision.set_type("unreachable");
        break;
      case EACCES:
        decision.set_type("prohibit");
        break;
      case EINVAL:
        decision.set_type(iif != 0 ? "martian or not forwarding" : "blackhole");
        break;
      default:
        break;
    }
  }
  auto fibmatch = build(RTM_F_FIB_MATCH);
  auto matched = channel->Transact(fibmatch, [&](const nlmsghdr* reply) {
    auto entry = DecodeRoute(reply, names);
    decision.set_matched_route(entry.text());
    if (!decision.error().empty() || decision.type().empty()) {
      decision.set_type(entry.type());
      decision.set_table(entry.table());
    }
  });
  if (!matched.ok()) {
    return matched.status();
  }
  if (decision.matched_route().empty() && !decision.error().empty()) {
    // The kernel answers a blackhole (and some failed lookups) with an error and no fib
    // match: find the route that matched by longest prefix, outside the local table.
    decision.set_type(*err == ENETUNREACH ? "no route" : decision.type());
    if (auto tables = ListRoutingTables(netns_fd); tables.ok()) {
      int best = -1;
      for (const auto& route : tables->routes()) {
        if (route.table() == RT_TABLE_LOCAL) {
          continue;
        }
        const int bits = PrefixMatch(*destination, route.destination());
        if (bits > best) {
          best = bits;
          decision.set_matched_route(route.text());
          decision.set_type(route.type());
          decision.set_table(route.table());
        }
      }
    }
  }
  return decision;
}

absl::StatusOr<nslab::v1::RoutesResponse> ListRoutingTables(int netns_fd) {
  auto channel = NetlinkChannel::OpenIn(netns_fd, NETLINK_ROUTE);
  if (!channel.ok()) {
    return channel.status();
  }
  const auto names = InterfaceNames(netns_fd);
  nslab::v1::RoutesResponse tables;
  for (unsigned char family : {AF_INET, AF_INET6}) {
    NetlinkMessage rules(RTM_GETRULE, NLM_F_DUMP);
    fib_rule_hdr frh{};
    frh.family = family;
    rules.AppendFixed(frh);
    auto err = channel->Transact(rules, [&](const nlmsghdr* reply) {
      const auto* hdr = static_cast<const fib_rule_hdr*>(NLMSG_DATA(reply));
      nslab::v1::RoutingRule rule;
      rule.set_family(hdr->family == AF_INET6 ? "inet6" : "inet");
      rule.set_action(RuleAction(hdr->action));
      rule.set_table(hdr->table);
      std::string from = "all", to;
      ForEachAttribute(reply, sizeof(fib_rule_hdr), [&](uint16_t type, const void* data, size_t) {
        switch (type) {
          case FRA_PRIORITY:
            rule.set_priority(U32(data));
            break;
          case FRA_SRC:
            from = absl::StrCat(FormatAddress(hdr->family, data), "/", hdr->src_len);
            break;
          case FRA_DST:
            to = absl::StrCat(FormatAddress(hdr->family, data), "/", hdr->dst_len);
            break;
          case FRA_FWMARK:
            rule.set_fwmark(U32(data));
            break;
          case FRA_IIFNAME:
            rule.set_input_interface(static_cast<const char*>(data));
            break;
          case FRA_TABLE:
            rule.set_table(U32(data));
            break;
          default:
            break;
        }
      });
      rule.set_from(from);
      rule.set_to(to);
      std::string text = absl::StrCat(rule.priority(), ":\tfrom ", from);
      if (!to.empty()) {
        absl::StrAppend(&text, " to ", to);
      }
      if (rule.fwmark() != 0) {
        absl::StrAppend(&text, " fwmark 0x", absl::Hex(rule.fwmark()));
      }
      if (!rule.input_interface().empty()) {
        absl::StrAppend(&text, " iif ", rule.input_interface());
      }
      if (hdr->action == FR_ACT_TO_TBL) {
        absl::StrAppend(&text, " lookup ", TableName(rule.table()));
      } else {
        absl::StrAppend(&text, " ", rule.action());
      }
      rule.set_text(text);
      *tables.add_rules() = std::move(rule);
    });
    if (!err.ok()) {
      return err.status();
    }
    NetlinkMessage routes(RTM_GETROUTE, NLM_F_DUMP);
    rtmsg rtm{};
    rtm.rtm_family = family;
    routes.AppendFixed(rtm);
    err = channel->Transact(routes, [&](const nlmsghdr* reply) {
      const auto* msg = static_cast<const rtmsg*>(NLMSG_DATA(reply));
      if (msg->rtm_flags & RTM_F_CLONED) {
        return;  // route cache entries are not routes
      }
      *tables.add_routes() = DecodeRoute(reply, names);
    });
    if (!err.ok()) {
      return err.status();
    }
  }
  return tables;
}

}  // namespace nslab::diag
