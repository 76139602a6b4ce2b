#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "daemon/netlink/route_socket.h"

namespace nslab::netlink {

enum class RouteKind { kUnicast, kBlackhole, kUnreachable, kProhibit };

struct NexthopSpec {
  std::string via;  // gateway address, may be empty
  std::string dev;  // interface name, may be empty
  uint32_t weight = 1;
};

struct RouteSpec {
  std::string to;  // CIDR, bare address, or "default"
  RouteKind kind = RouteKind::kUnicast;
  std::vector<NexthopSpec> nexthops;  // one for a plain route, several for ECMP
  uint32_t metric = 0;
  uint32_t table = 0;  // 0 = main
};

absl::Status AddRoute(const RouteSocket& sock, const RouteSpec& route);
// The same route, put back whether or not it exists (NLM_F_REPLACE): what the kernel
// flushed when the route's interface went down.
absl::Status ReplaceRoute(const RouteSocket& sock, const RouteSpec& route);
// Removes the route; OK when it is not there (the kernel drops a route with its interface).
absl::Status DeleteRoute(const RouteSocket& sock, const RouteSpec& route);

struct RuleSpec {
  std::string from;  // CIDR or empty
  std::string to;
  uint32_t fwmark = 0;
  std::string iif;
  uint32_t priority = 0;  // 0 = kernel picks
  uint32_t table = 0;
  bool ipv6 = false;  // family when neither from nor to says
};

absl::Status AddRule(const RouteSocket& sock, const RuleSpec& rule);
// Removes the rule; OK when it is not there.
absl::Status DeleteRule(const RouteSocket& sock, const RuleSpec& rule);

// Writes /proc/sys/<key with dots as slashes>. Must run on a thread inside the target
// namespace: net.* sysctls are per namespace and resolved by the writer's namespace.
absl::Status WriteSysctl(const std::string& key, const std::string& value);

}  // namespace nslab::netlink
