#include "daemon/topology/auto_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/topology/yaml_reader.h"

namespace nslab::topology {
namespace {

using ::testing::UnorderedElementsAre;

std::vector<std::string> RoutesOf(const nslab::v1::Topology& topology, const std::string& node) {
  std::vector<std::string> result;
  for (const auto& n : topology.nodes()) {
    if (n.name() == node) {
      for (const auto& route : n.routes()) {
        result.push_back(route.to() + " via " + route.via());
      }
    }
  }
  return result;
}

nslab::v1::Topology Routed(const std::string& yaml) {
  auto topology = ReadTopologyYaml(yaml);
  EXPECT_TRUE(topology.ok()) << topology.status();
  AddAutoRoutes(&*topology);
  return *topology;
}

TEST(AutoRoutes, ChainThroughTwoRouters) {
  auto topology = Routed(R"(
routing: auto
nodes: {h1: {}, r1: {kind: router}, r2: {kind: router}, h2: {}}
links:
  - {a: h1:eth0, b: r1:eth0, a_addr: 10.0.1.2/24, b_addr: 10.0.1.1/24}
  - {a: r1:eth1, b: r2:eth0, a_addr: 10.0.12.1/30, b_addr: 10.0.12.2/30}
  - {a: r2:eth1, b: h2:eth0, a_addr: 10.0.2.1/24, b_addr: 10.0.2.2/24}
)");
  EXPECT_THAT(RoutesOf(topology, "h1"),
              UnorderedElementsAre("10.0.12.0/30 via 10.0.1.1", "10.0.2.0/24 via 10.0.1.1"));
  EXPECT_THAT(RoutesOf(topology, "r1"), UnorderedElementsAre("10.0.2.0/24 via 10.0.12.2"));
  EXPECT_THAT(RoutesOf(topology, "r2"), UnorderedElementsAre("10.0.1.0/24 via 10.0.12.1"));
  EXPECT_THAT(RoutesOf(topology, "h2"),
              UnorderedElementsAre("10.0.12.0/30 via 10.0.2.1", "10.0.1.0/24 via 10.0.2.1"));
}

TEST(AutoRoutes, HostsDoNotForwardAndSwitchesJoinSegments) {
  auto topology = Routed(R"(
routing: auto
nodes: {a: {}, b: {}, gw: {kind: router}, sw: {kind: switch}, far: {}}
links:
  - {a: a:eth0, b: sw:p1, a_addr: 10.1.0.10/24}
  - {a: b:eth0, b: sw:p2, a_addr: 10.1.0.11/24}
  - {a: gw:lan0, b: sw:p3, a_addr: 10.1.0.1/24}
  - {a: gw:wan0, b: far:eth0, a_addr: 10.2.0.1/24, b_addr: 10.2.0.2/24}
  - {a: b:eth1, b: far:eth1, a_addr: 10.3.0.1/24, b_addr: 10.3.0.2/24}
)");
  // a reaches far's subnets through gw, never through host b.
  EXPECT_THAT(RoutesOf(topology, "a"), UnorderedElementsAre("10.2.0.0/24 via 10.1.0.1"));
  EXPECT_THAT(RoutesOf(topology, "far"), UnorderedElementsAre("10.1.0.0/24 via 10.2.0.1"));
  EXPECT_TRUE(RoutesOf(topology, "sw").empty());
}

TEST(AutoRoutes, KeepsRoutesTheFileGivesAndHandlesIpv6) {
  auto topology = Routed(R"(
routing: auto
nodes: {h1: {}, r: {kind: router}, h2: {}}
links:
  - {a: h1:eth0, b: r:eth0, a_addr: [10.0.1.2/24, "fd00:1::2/64"], b_addr: [10.0.1.1/24, "fd00:1::1/64"]}
  - {a: r:eth1, b: h2:eth0, a_addr: [10.0.2.1/24, "fd00:2::1/64"], b_addr: [10.0.2.2/24, "fd00:2::2/64"]}
routes:
  h1: [{to: 10.0.2.0/24, via: 10.0.1.1, metric: 5}]
)");
  EXPECT_THAT(RoutesOf(topology, "h1"),
              UnorderedElementsAre("10.0.2.0/24 via 10.0.1.1", "fd00:2::/64 via fd00:1::1"));
  EXPECT_THAT(RoutesOf(topology, "h2"),
              UnorderedElementsAre("10.0.1.0/24 via 10.0.2.1", "fd00:1::/64 via fd00:2::1"));
}

}  // namespace
}  // namespace nslab::topology
