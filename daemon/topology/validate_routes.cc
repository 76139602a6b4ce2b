#include "daemon/topology/validate_routes.h"

#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/enum_defaults.h"

namespace nslab::topology {
namespace {

using nslab::v1::Node;
using nslab::v1::Route;

using MaybeError = std::optional<FieldError>;

MaybeError Invalid(std::string path, std::string message) {
  return FieldError{absl::StatusCode::kInvalidArgument, std::move(path), std::move(message)};
}

constexpr uint32_t kDefaultTable = 253;  // RT_TABLE_DEFAULT
constexpr uint32_t kMainTable = 254;     // RT_TABLE_MAIN
constexpr uint32_t kLocalTable = 255;    // RT_TABLE_LOCAL

uint32_t TableOf(uint32_t table) { return table == 0 ? kMainTable : table; }

std::string TableName(uint32_t table) { return table == kMainTable ? "main" : absl::StrCat(table); }

// The kernel looks a new route's gateway up in the route's own table, then through the policy
// rules; a node's own rules are added after its routes, so only the default rules' tables
// (local, main, default) are there yet.
bool GatewayLookupSees(uint32_t route_table, uint32_t other_table) {
  const uint32_t other = TableOf(other_table);
  return other == TableOf(route_table) || other == kLocalTable || other == kMainTable ||
         other == kDefaultTable;
}

bool IsIpv6LinkLocal(const IpAddress& address) {
  return address.family == AF_INET6 && address.bytes[0] == 0xfe &&
         (address.bytes[1] & 0xc0) == 0x80;
}

IpPrefix DefaultPrefix(int family) {
  IpPrefix prefix;
  prefix.address.family = family;
  return prefix;
}

// A prefix a gateway may be in: a subnet of the node's addresses, or the destination of a
// device route (dev without via) added before, which the kernel takes as on-link too.
struct OnLink {
  std::string dev;
  IpPrefix network;
  uint32_t table = 0;
};

class RouteChecker {
 public:
  RouteChecker(const Node& node, const InterfaceAddresses& interfaces)
      : node_(node), interfaces_(interfaces), kernel_(node.kind() != nslab::v1::NODE_KIND_USTACK) {
    for (const auto& [dev, prefixes] : interfaces) {
      for (const IpPrefix& prefix : prefixes) {
        on_link_.push_back({dev, prefix.Network(), 0});
        const int max = prefix.address.family == AF_INET ? 32 : 128;
        // The kernel's own route to an IPv4 subnet: main table, metric 0 (none for a /32).
        if (kernel_ && prefix.address.family == AF_INET && prefix.length < max) {
          ipv4_routes_.emplace(RouteKey{prefix.Network().ToString(), kMainTable, 0},
                               absl::StrCat(node.name(), "'s own subnet on ", dev));
        }
      }
    }
  }

  MaybeError Check() {
    for (int i = 0; i < node_.routes_size(); ++i) {
      NSLAB_TRY_FIELD(CheckRoute(i));
    }
    return CheckRules();
  }

 private:
  // The kernel keeps one IPv4 route per destination, table and metric (whatever its type or
  // gateway); a second is refused with EEXIST.
  using RouteKey = std::tuple<std::string, uint32_t, uint32_t>;

  MaybeError CheckRoute(int i) {
    const Route& route = node_.routes(i);
    const std::string path = absl::StrCat("routes.", node_.name(), "[", i, "]");
    int family = 0;
    std::optional<IpPrefix> to;
    if (route.to() != "default") {
      to = ParseIpPrefix(route.to(), /*allow_bare=*/true);
      if (!to) {
        return Invalid(path + ".to",
                       absl::StrCat("\"", route.to(), "\" is not a CIDR or \"default\""));
      }
      family = to->address.family;
    }
    if (!nslab::v1::RouteType_IsValid(route.type())) {
      return Invalid(path + ".type", "unknown type (unicast, blackhole, unreachable, prohibit)");
    }
    const bool has_hop = !route.via().empty() || !route.dev().empty();
    if (!nslab::v1::IsUnicast(route.type())) {
      if (has_hop || route.nexthops_size() > 0) {
        return Invalid(path, "blackhole, unreachable and prohibit routes take no via or dev");
      }
    } else {
      if (has_hop && route.nexthops_size() > 0) {
        return Invalid(path, "give via/dev or nexthops, not both");
      }
      if (!has_hop && route.nexthops_size() == 0) {
        return Invalid(path, "a route needs via, dev or nexthops");
      }
      if (family == 0) {
        family = FamilyOfDefault(route);
      }
      NSLAB_TRY_FIELD(CheckHop(route.via(), route.dev(), path, family, route.table()));
      for (int h = 0; h < route.nexthops_size(); ++h) {
        const auto& hop = route.nexthops(h);
        const std::string hop_path = absl::StrCat(path, ".nexthops[", h, "]");
        if (hop.via().empty() && hop.dev().empty()) {
          return Invalid(hop_path, "a next hop needs via or dev");
        }
        if (hop.weight() > 256) {
          return Invalid(hop_path + ".weight", "must be from 1 to 256 (0 = 1)");
        }
        NSLAB_TRY_FIELD(CheckHop(hop.via(), hop.dev(), hop_path, family, route.table()));
      }
    }
    if (!kernel_) {
      return std::nullopt;  // the stack's table: checked above, nothing of the kernel's
    }
    if (family == 0) {
      family = AF_INET;  // a default without a gateway: nslab adds it as IPv4
    }
    const IpPrefix destination = to ? *to : DefaultPrefix(family);
    if (family == AF_INET && !(destination == destination.Network())) {
      return Invalid(path + ".to", absl::StrCat(route.to(),
                                                " has host bits set, which the kernel refuses; "
                                                "write the network, ",
                                                destination.Network().ToString()));
    }
    if (family == AF_INET) {
      auto [it, inserted] = ipv4_routes_.emplace(
          RouteKey{destination.ToString(), TableOf(route.table()), route.metric()}, path);
      if (!inserted) {
        return Invalid(
            path + ".to",
            absl::StrCat(it->second, " already routes ", destination.ToString(), " in table ",
                         TableName(TableOf(route.table())), " with metric ", route.metric(),
                         ", and the kernel keeps one route per destination, table "
                         "and metric: remove one, or give one another metric"));
      }
    }
    RecordDeviceRoute(route, destination);
    return std::nullopt;
  }

  // A default route's family is its gateways' (nslab adds one without a gateway as IPv4).
  static int FamilyOfDefault(const Route& route) {
    std::vector<std::string> gateways = {route.via()};
    for (const auto& hop : route.nexthops()) {
      gateways.push_back(hop.via());
    }
    for (const std::string& via : gateways) {
      if (auto address = ParseIpAddress(via)) {
        return address->family;
      }
    }
    return 0;
  }

  // Routes through interfaces alone are on-link: later routes may have gateways in them.
  void RecordDeviceRoute(const Route& route, const IpPrefix& destination) {
    if (!nslab::v1::IsUnicast(route.type())) {
      return;
    }
    std::vector<std::pair<std::string, std::string>> hops = {{route.via(), route.dev()}};
    for (const auto& hop : route.nexthops()) {
      hops.emplace_back(hop.via(), hop.dev());
    }
    for (const auto& [via, dev] : hops) {
      if (via.empty() && !dev.empty()) {
        on_link_.push_back({dev, destination.Network(), route.table()});
      }
    }
  }

  MaybeError CheckHop(const std::string& via, const std::string& dev, const std::string& path,
                      int family, uint32_t table) {
    std::optional<IpAddress> gateway;
    if (!via.empty()) {
      gateway = ParseIpAddress(via);
      if (!gateway) {
        return Invalid(path + ".via", absl::StrCat("\"", via, "\" is not an address"));
      }
      if (family != 0 && gateway->family != family) {
        return Invalid(path + ".via", "gateway and destination are of different families");
      }
    }
    if (!dev.empty() && interfaces_.count(dev) == 0) {
      return Invalid(path + ".dev",
                     absl::StrCat("node ", node_.name(), " has no interface \"", dev, "\""));
    }
    if (!gateway) {
      return std::nullopt;
    }
    if (IsIpv6LinkLocal(*gateway)) {
      // On-link on every interface with IPv6, so the kernel cannot choose one.
      if (dev.empty()) {
        return Invalid(
            path + ".via",
            absl::StrCat("gateway ", via,
                         " is link-local, which the kernel takes only with the "
                         "interface it is on: add dev (e.g. dev: ",
                         interfaces_.empty() ? "eth0" : interfaces_.begin()->first, ")"));
      }
      return std::nullopt;
    }
    if (gateway->family == AF_INET6) {
      for (const auto& [name, prefixes] : interfaces_) {
        for (const IpPrefix& prefix : prefixes) {
          if (prefix.address == *gateway) {
            return Invalid(
                path + ".via",
                absl::StrCat("gateway ", via, " is ", node_.name(), "'s own address (on ", name,
                             "), which the kernel refuses; route via a neighbour's"));
          }
        }
      }
    }
    for (const auto& [name, prefixes] : interfaces_) {
      for (const IpPrefix& prefix : prefixes) {
        // The kernel's local table routes a subnet's broadcast address as broadcast, not to a
        // host (a /31 or /32 has none).
        if (gateway->family == AF_INET && prefix.address.family == AF_INET && prefix.length < 31 &&
            prefix.Last() == *gateway && (dev.empty() || dev == name)) {
          return Invalid(
              path + ".via",
              absl::StrCat("gateway ", via, " is the broadcast address of ", node_.name(),
                           "'s subnet ", prefix.Network().ToString(), " (on ", name,
                           "), which the kernel refuses; route via a host's address"));
        }
      }
    }
    std::vector<std::string> subnets;
    for (const OnLink& candidate : on_link_) {
      if (!dev.empty() && candidate.dev != dev) {
        continue;
      }
      if (candidate.table != 0 && !GatewayLookupSees(table, candidate.table)) {
        continue;
      }
      if (candidate.network.Contains(*gateway)) {
        return std::nullopt;
      }
      if (candidate.network.address.family == gateway->family) {
        const std::string text = candidate.network.ToString();
        if (std::find(subnets.begin(), subnets.end(), text) == subnets.end()) {
          subnets.push_back(text);
        }
      }
    }
    const std::string where =
        dev.empty() ? absl::StrCat(node_.name(), "'s") : absl::StrCat(node_.name(), ":", dev, "'s");
    const std::string known =
        subnets.empty() ? absl::StrCat("it has no ", gateway->family == AF_INET ? "IPv4" : "IPv6",
                                       dev.empty() ? " address" : " address there")
                        : absl::StrJoin(subnets, ", ");
    return Invalid(path + ".via",
                   absl::StrCat("gateway ", via, " is on none of ", where, " subnets (", known,
                                "); add an address in its subnet or route via a "
                                "reachable gateway"));
  }

  MaybeError CheckRules() const {
    for (int i = 0; i < node_.rules_size(); ++i) {
      const auto& rule = node_.rules(i);
      const std::string path = absl::StrCat("rules.", node_.name(), "[", i, "]");
      for (const auto& [key, text] : {std::pair{"from", rule.from()}, std::pair{"to", rule.to()}}) {
        if (!text.empty() && !ParseIpPrefix(text, /*allow_bare=*/true)) {
          return Invalid(absl::StrCat(path, ".", key),
                         absl::StrCat("\"", text, "\" is not a CIDR"));
        }
      }
      if (!rule.iif().empty() && rule.iif() != "lo" && interfaces_.count(rule.iif()) == 0) {
        return Invalid(path + ".iif", absl::StrCat("node ", node_.name(), " has no interface \"",
                                                   rule.iif(), "\""));
      }
      if (rule.table() == 0) {
        return Invalid(path + ".table", "a rule needs the table it selects (1 to 4294967295)");
      }
    }
    return std::nullopt;
  }

  const Node& node_;
  const InterfaceAddresses& interfaces_;
  const bool kernel_;
  std::vector<OnLink> on_link_;
  std::map<RouteKey, std::string> ipv4_routes_;  // -> what added it, for the message
};

}  // namespace

std::optional<FieldError> CheckRoutesAndRules(const Node& node,
                                              const InterfaceAddresses& interfaces) {
  return RouteChecker(node, interfaces).Check();
}

}  // namespace nslab::topology
