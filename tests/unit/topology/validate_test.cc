// Refusals of what the kernel (or a ustack node's stack) would refuse, or what would certainly
// break, known from the file alone: INVALID_ARGUMENT naming the field, before anything is built.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "daemon/topology/validate.h"
#include "daemon/topology/yaml_reader.h"

namespace nslab::topology {
namespace {

std::string ErrorOf(const std::string& text) {
  const absl::Status status = ReadTopologyYaml(text).status();
  if (status.ok()) {
    return "ok";
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

// r1 routes between two subnets; h1 is on the first, h2 on the second.
constexpr char kRouter[] = R"(nodes: {r1: {kind: router}, h1: {}, h2: {}}
links:
  - {a: r1:eth0, b: h1:eth0, a_addr: [10.0.0.1/24, 2001:db8::1/64], b_addr: 10.0.0.2/24}
  - {a: r1:eth1, b: h2:eth0, a_addr: 10.0.1.1/24, b_addr: 10.0.1.2/24}
)";

std::string RouteError(const std::string& routes) {
  return ErrorOf(absl::StrCat(kRouter, "routes:\n  r1:\n", routes));
}

TEST(ValidateRoutes, GatewayOnNoneOfTheNodesSubnets) {
  EXPECT_EQ(RouteError("    - {to: 10.8.0.0/24, via: 10.0.1.2}\n"
                       "    - {to: default, via: 10.0.0.2}\n"
                       "    - {to: 10.9.0.0/24, via: 10.9.0.1}\n"),
            "routes.r1[2].via: gateway 10.9.0.1 is on none of r1's subnets (10.0.0.0/24, "
            "10.0.1.0/24); add an address in its subnet or route via a reachable gateway "
            "(line 9)");
  // The kernel looks the gateway up through `dev` alone.
  EXPECT_EQ(RouteError("    - {to: 10.9.0.0/24, via: 10.0.0.2, dev: eth1}\n"),
            "routes.r1[0].via: gateway 10.0.0.2 is on none of r1:eth1's subnets (10.0.1.0/24); "
            "add an address in its subnet or route via a reachable gateway (line 7)");
  EXPECT_EQ(RouteError("    - {to: 2001:db8:9::/64, via: 2001:db8:8::1}\n"),
            "routes.r1[0].via: gateway 2001:db8:8::1 is on none of r1's subnets "
            "(2001:db8::/64); add an address in its subnet or route via a reachable gateway "
            "(line 7)");
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}}\nlinks: [{a: a:eth0, b: b:eth0}]\n"
                    "routes: {a: [{to: default, nexthops: [{dev: eth0}, {via: 10.0.0.1}]}]}\n"),
            "routes.a[0].nexthops[1].via: gateway 10.0.0.1 is on none of a's subnets (it has no "
            "IPv4 address); add an address in its subnet or route via a reachable gateway "
            "(line 3)");
  // What the kernel takes: a gateway on a subnet, in a device route's range added before it,
  // or seen from another table through main; and routes without gateways.
  EXPECT_EQ(RouteError("    - {to: 10.9.0.0/24, via: 10.0.0.2, dev: eth0}\n"
                       "    - {to: 10.7.0.0/24, dev: eth1}\n"
                       "    - {to: 10.6.0.0/24, via: 10.7.0.9}\n"
                       "    - {to: 10.5.0.0/24, via: 10.0.1.2, table: 100}\n"
                       "    - {to: 10.4.0.0/24, type: blackhole}\n"
                       "    - {to: default, nexthops: [{via: 10.0.0.2}, {via: 10.0.1.2}]}\n"
                       "    - {to: 2001:db8:9::/64, via: 2001:db8::2}\n"),
            "ok");
  // A device route added after the route that needs it is not there yet.
  EXPECT_THAT(RouteError("    - {to: 10.6.0.0/24, via: 10.7.0.9}\n"
                         "    - {to: 10.7.0.0/24, dev: eth1}\n"),
              ::testing::HasSubstr("routes.r1[0].via: gateway 10.7.0.9 is on none"));
}

TEST(ValidateRoutes, UstackGatewaysAreTheStacks) {
  const std::string base =
      "nodes: {k: {}, s: {kind: ustack}}\n"
      "links: [{a: k:eth0, b: s:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]\n";
  EXPECT_EQ(ErrorOf(base + "routes: {s: [{to: default, via: 10.0.0.1}]}\n"), "ok");
  EXPECT_EQ(ErrorOf(base + "routes: {s: [{to: default, via: 10.1.0.1}]}\n"),
            "routes.s[0].via: gateway 10.1.0.1 is on none of s's subnets (10.0.0.0/24); add an "
            "address in its subnet or route via a reachable gateway (line 3)");
  const absl::Status v6 =
      ReadTopologyYaml(base + "routes: {s: [{to: default, via: 2001:db8::1}]}\n").status();
  EXPECT_EQ(v6.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(v6.message(), ::testing::HasSubstr("plain IPv4 routes"));
}

TEST(ValidateRoutes, Ipv6LinkLocalGatewaysNeedTheirInterface) {
  EXPECT_EQ(RouteError("    - {to: default, via: fe80::2}\n"),
            "routes.r1[0].via: gateway fe80::2 is link-local, which the kernel takes only with "
            "the interface it is on: add dev (e.g. dev: eth0) (line 7)");
  // On-link on any interface with IPv6, whatever its addresses.
  EXPECT_EQ(RouteError("    - {to: default, via: fe80::2, dev: eth1}\n"), "ok");
}

TEST(ValidateRoutes, Ipv6GatewayIsNotTheNodesOwnAddress) {
  EXPECT_EQ(RouteError("    - {to: 2001:db8:9::/64, via: 2001:db8::1}\n"),
            "routes.r1[0].via: gateway 2001:db8::1 is r1's own address (on eth0), which the "
            "kernel refuses; route via a neighbour's (line 7)");
}

TEST(ValidateRoutes, Ipv4GatewayIsNotASubnetsBroadcast) {
  EXPECT_EQ(RouteError("    - {to: 10.9.0.0/24, via: 10.0.1.255}\n"),
            "routes.r1[0].via: gateway 10.0.1.255 is the broadcast address of r1's subnet "
            "10.0.1.0/24 (on eth1), which the kernel refuses; route via a host's address (line 7)");
}

TEST(ValidateRoutes, Ipv4DestinationWithHostBits) {
  EXPECT_EQ(RouteError("    - {to: 10.9.0.5/24, via: 10.0.0.2}\n"),
            "routes.r1[0].to: 10.9.0.5/24 has host bits set, which the kernel refuses; write the "
            "network, 10.9.0.0/24 (line 7)");
  EXPECT_EQ(RouteError("    - {to: 10.9.0.5, via: 10.0.0.2}\n"
                       "    - {to: 2001:db8:9::1/64, via: 2001:db8::2}\n"),
            "ok");  // a host route; IPv6 masks the host bits itself
}

TEST(ValidateRoutes, OneIpv4RoutePerDestinationTableAndMetric) {
  EXPECT_EQ(RouteError("    - {to: 10.9.0.0/24, via: 10.0.0.2}\n"
                       "    - {to: 10.9.0.0/24, type: blackhole}\n"),
            "routes.r1[1].to: routes.r1[0] already routes 10.9.0.0/24 in table main with metric "
            "0, and the kernel keeps one route per destination, table and metric: remove one, or "
            "give one another metric (line 8)");
  EXPECT_EQ(RouteError("    - {to: 10.0.1.0/24, via: 10.0.0.2}\n"),
            "routes.r1[0].to: r1's own subnet on eth1 already routes 10.0.1.0/24 in table main "
            "with metric 0, and the kernel keeps one route per destination, table and metric: "
            "remove one, or give one another metric (line 7)");
  EXPECT_EQ(RouteError("    - {to: default, via: 10.0.0.2}\n"
                       "    - {to: default, via: 10.0.1.2, metric: 10}\n"
                       "    - {to: default, via: 10.0.1.2, table: 7}\n"
                       "    - {to: 10.0.1.0/24, via: 10.0.0.2, metric: 5}\n"),
            "ok");
}

TEST(ValidateAddresses, OneAddressTwiceOnOneSegment) {
  // Both ends of a link.
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}}\n"
                    "links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.1/24}]\n"),
            "links[0].b_addr[0]: address 10.0.0.1 is also links[0].a_addr[0] (a:eth0), on the "
            "same L2 segment as b:eth0; give each interface there its own address (line 2)");
  // Two nodes on one switch, IPv6 written two ways; and a ustack node, whose address is its
  // stack's.
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}, s: {kind: switch}}\n"
                    "links:\n"
                    "  - {a: a:eth0, b: s:p1, a_addr: 2001:db8::1/64}\n"
                    "  - {a: b:eth0, b: s:p2, a_addr: 2001:DB8:0::1/64}\n"),
            "links[1].a_addr[0]: address 2001:db8::1 is also links[0].a_addr[0] (a:eth0), on the "
            "same L2 segment as b:eth0; give each interface there its own address (line 4)");
  EXPECT_EQ(ErrorOf("nodes: {a: {}, u: {kind: ustack}}\n"
                    "links: [{a: a:eth0, b: u:eth0, a_addr: 10.0.0.2/24, b_addr: 10.0.0.2/24}]\n"),
            "links[0].b_addr[0]: address 10.0.0.2 is also links[0].a_addr[0] (a:eth0), on the "
            "same L2 segment as u:eth0; give each interface there its own address (line 2)");
  // Apart, one address is fine (two labs behind NAT, say).
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}, c: {}}\n"
                    "links:\n"
                    "  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24}\n"
                    "  - {a: c:eth0, b: b:eth1, a_addr: 10.0.0.1/24}\n"),
            "ok");
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}}\n"
                    "links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24},\n"
                    "        {a: a:eth1, b: b:eth1, a_addr: 10.0.0.1/16}]\n"),
            "links[1].a_addr[0]: address 10.0.0.1 is already used on node a (line 3)");
}

TEST(ValidateLinks, Ipv6NeedsAnMtuOf1280) {
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}}\n"
                    "links: [{a: a:eth0, b: b:eth0, mtu: 1000, b_addr: [10.0.0.2/24, "
                    "2001:db8::2/64]}]\n"),
            "links[0].mtu: mtu 1000 is below 1280, IPv6's minimum, and b_addr[1] 2001:db8::2/64 "
            "is IPv6: the kernel turns IPv6 off on such an interface; raise the MTU to 1280 or "
            "use IPv4 there (line 2)");
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}}\n"
                    "links: [{a: a:eth0, b: b:eth0, mtu: 1000, b_addr: 10.0.0.2/24},\n"
                    "        {a: a:eth1, b: b:eth1, mtu: 1280, b_addr: 2001:db8::2/64}]\n"),
            "ok");
}

TEST(ValidateLinks, FlowsNeedAMatchAndAnImpairment) {
  const auto flows = [](const std::string& link_extra, const std::string& list) {
    return ErrorOf(absl::StrCat("nodes: {a: {}, b: {}}\nlinks: [{a: a:eth0, b: b:eth0", link_extra,
                                ", flows: ", list, "}]\n"));
  };
  EXPECT_EQ(flows("", R"([{match: "tcp dport 5432", impair: {delay: 10ms}},
                          {match: "udp", a_to_b: {}}])"),
            "ok");
  // Whether a veth can play them is the kernel's to say, when the lab is built.
  EXPECT_EQ(flows(", mode: veth", R"([{match: "udp", impair: {delay: 1ms}}])"), "ok");
  EXPECT_THAT(flows("", R"([{impair: {delay: 1ms}}])"),
              ::testing::StartsWith("links[0].flows[0].match: missing"));
  EXPECT_THAT(flows("", R"([{match: "udp dport 0", impair: {delay: 1ms}}])"),
              ::testing::StartsWith("links[0].flows[0].match: "));
  EXPECT_THAT(flows("", R"([{match: "udp"}])"),
              ::testing::StartsWith("links[0].flows[0]: no impairment"));
  EXPECT_THAT(flows("", R"([{match: "udp", impair: {loss: 101%}}])"),
              ::testing::StartsWith("links[0].flows[0].impair"));
  EXPECT_THAT(
      flows("", R"([{match: "udp  sport 53", impair: {}}, {match: "udp sport 53", impair: {}}])"),
      ::testing::StartsWith("links[0].flows[1].match: \"udp sport 53\" is an earlier"));
}

TEST(ValidateLinks, UstackMtuIsTheStacks) {
  const std::string nodes = "nodes: {k: {}, s: {kind: ustack}}\n";
  EXPECT_EQ(ErrorOf(nodes + "links: [{a: k:eth0, b: s:eth0, mtu: 9001, b_addr: 10.0.0.2/24}]\n"),
            "links[0].mtu: mtu 9001 is above 9000, the most s's stack (kind ustack) takes; lower "
            "it to 9000 or less (line 2)");
  EXPECT_EQ(ErrorOf(nodes + "links: [{a: k:eth0, b: s:eth0, mtu: 9000, b_addr: 10.0.0.2/24}]\n"),
            "ok");
}

TEST(ValidateLinks, InterfaceNamesNslabTakesInANode) {
  EXPECT_EQ(ErrorOf("nodes: {a: {}, s: {kind: switch}}\nlinks: [{a: a:eth0, b: s:br0}]\n"),
            "links[0].b: interface name \"br0\" is taken by the switch's bridge nslab makes in s; "
            "choose another name (line 2)");
  for (const char* name : {"nsl-br0", "nsl-tap0"}) {
    EXPECT_EQ(ErrorOf(absl::StrCat("nodes: {a: {}, u: {kind: ustack}}\nlinks: [{a: a:eth0, b: u:",
                                   name, ", b_addr: 10.0.0.2/24}]\n")),
              absl::StrCat("links[0].b: interface name \"", name,
                           "\" is taken by the stack's bridge and TAP nslab makes in u; choose "
                           "another name (line 2)"));
  }
  // A big switch's leaf bridges and their veths.
  EXPECT_EQ(ErrorOf("nodes: {a: {}, s: {kind: switch}}\nlinks: [{a: a:eth0, b: s:nslab-up3}]\n"),
            "links[0].b: interface name \"nslab-up3\": names starting with \"nslab-\" are for the "
            "bridges nslab makes in a big switch; choose another name (line 2)");
  // On a host, br0 is just a name.
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}}\nlinks: [{a: a:br0, b: b:nsl-tap0}]\n"), "ok");
  EXPECT_EQ(ErrorOf("nodes: {a: {}, b: {}}\nlinks: [{a: a:nslab-up3, b: b:eth0}]\n"), "ok");
}

}  // namespace
}  // namespace nslab::topology
