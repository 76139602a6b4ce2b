#include "daemon/lab/lab_diff.h"

#include <algorithm>

#include "daemon/lab/lab_registry.h"
#include "daemon/topology/yaml_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::lab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

nslab::v1::Topology Prepared(const std::string& yaml) {
  auto read = topology::ReadTopologyYaml(yaml);
  EXPECT_TRUE(read.ok()) << read.status();
  auto prepared = LabRegistry::Prepare(*read, "lab");
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  return *prepared;
}

LinkModes Veths(const nslab::v1::Topology& topology) {
  return LinkModes(topology.links_size(), nslab::v1::LINK_MODE_VETH);
}

absl::StatusOr<TopologyDiff> Diff(const std::string& before, const std::string& after) {
  const auto old_topology = Prepared(before);
  const auto new_topology = Prepared(after);
  return DiffTopologies(old_topology, Veths(old_topology), new_topology, Veths(new_topology));
}

std::vector<std::string> Lines(const TopologyDiff& diff) {
  std::vector<std::string> lines;
  for (const auto& change : diff.plan) {
    lines.push_back(PlanLine(change));
  }
  return lines;
}

constexpr char kTwo[] = R"(
nodes: {a: {}, b: {}, c: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
  - {a: a:eth1, b: c:eth0, a_addr: 10.0.1.1/24, b_addr: 10.0.1.2/24}
run:
  c: ["exec sleep 600"]
)";

TEST(DiffTopologiesTest, TheSameTopologyChangesNothing) {
  auto diff = Diff(kTwo, kTwo);
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_TRUE(diff->empty());
  EXPECT_THAT(diff->kept_links, ElementsAre(std::pair(0, 0), std::pair(1, 1)));
  EXPECT_THAT(diff->node_edits, IsEmpty());
}

TEST(DiffTopologiesTest, AddsAndRemovesNodesWithTheirLinksAndKeepsTheRest) {
  auto diff = Diff(kTwo, R"(
nodes: {a: {}, b: {}, d: {}}
links:
  - {a: b:eth1, b: d:eth0, a_addr: 10.0.2.1/24, b_addr: 10.0.2.2/24}
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
)");
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_THAT(Lines(*diff), UnorderedElementsAre("- node c", "+ node d", "+ link b:eth1 <-> d:eth0",
                                                 "- link a:eth1 <-> c:eth0"));
  EXPECT_THAT(diff->remove_node, ElementsAre(false, false, true));
  EXPECT_THAT(diff->remove_link, ElementsAre(false, true));
  EXPECT_THAT(diff->build.make_node, ElementsAre(false, false, true));
  EXPECT_THAT(diff->build.finish_node, ElementsAre(false, false, true));
  EXPECT_THAT(diff->build.make_link, ElementsAre(true, false));
  // The link that stays moved from index 0 to 1.
  EXPECT_THAT(diff->kept_links, ElementsAre(std::pair(0, 1)));
  // b stays and gets a new interface: its routes through it are put back once it is up.
  EXPECT_THAT(diff->remade_ends, ElementsAre(std::pair(std::string("b"), std::string("eth1"))));
}

TEST(DiffTopologiesTest, AKindChangeMakesTheNodeAndItsLinksAgain) {
  auto diff = Diff(kTwo, R"(
nodes: {a: {}, b: {kind: router}, c: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
  - {a: a:eth1, b: c:eth0, a_addr: 10.0.1.1/24, b_addr: 10.0.1.2/24}
run:
  c: ["exec sleep 600"]
)");
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_THAT(Lines(*diff),
              UnorderedElementsAre("! node b: made again (kind NODE_KIND_HOST -> NODE_KIND_ROUTER)",
                                   "! link a:eth0 <-> b:eth0: made again (an end's node is made "
                                   "again)"));
  EXPECT_THAT(diff->remove_node, ElementsAre(false, true, false));
  EXPECT_THAT(diff->build.make_node, ElementsAre(false, true, false));
  EXPECT_THAT(diff->remove_link, ElementsAre(true, false));
  EXPECT_THAT(diff->build.make_link, ElementsAre(true, false));
  EXPECT_THAT(diff->kept_links, ElementsAre(std::pair(1, 1)));
}

TEST(DiffTopologiesTest, ChangesInsideANodeAreEditsInPlace) {
  auto diff = Diff(kTwo, R"(
nodes:
  a: {nftables: "table inet t { }"}
  b: {}
  c: {}
routes:
  a: [{to: 192.0.2.0/24, via: 10.0.0.2}]
sysctls:
  a: {net.ipv4.ip_forward: 1}
links:
  - {a: a:eth0, b: b:eth0, a_addr: [10.0.0.1/24, 10.0.0.11/24], b_addr: 10.0.0.2/24}
  - {a: a:eth1, b: c:eth0, a_addr: 10.0.1.1/24, b_addr: 10.0.1.2/24, impair: {delay: 5ms}}
run:
  c: ["exec sleep 601"]
)");
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_THAT(diff->remove_node, ElementsAre(false, false, false));
  EXPECT_THAT(diff->build.make_link, ElementsAre(false, false));
  ASSERT_EQ(diff->node_edits.size(), 2u);
  const NodeEdit& a = diff->node_edits[0];
  EXPECT_EQ(a.name, "a");
  ASSERT_EQ(a.routes_added.size(), 1u);
  EXPECT_EQ(a.routes_added[0].to(), "192.0.2.0/24");
  EXPECT_THAT(a.sysctls_set,
              ElementsAre(std::pair(std::string("net.ipv4.ip_forward"), std::string("1"))));
  EXPECT_TRUE(a.ruleset_changed);
  const NodeEdit& c = diff->node_edits[1];
  EXPECT_EQ(c.name, "c");
  ASSERT_EQ(c.runs_stopped.size(), 1u);
  ASSERT_EQ(c.runs_started.size(), 1u);
  EXPECT_THAT(c.runs_started[0].argv(), ElementsAre("/bin/sh", "-c", "exec sleep 601"));
  ASSERT_EQ(diff->link_edits.size(), 2u);
  EXPECT_THAT(diff->link_edits[0].addresses_added[0], ElementsAre("10.0.0.11/24"));
  EXPECT_TRUE(diff->link_edits[1].impairment_changed[0]);
  EXPECT_TRUE(diff->link_edits[1].impairment_changed[1]);
  EXPECT_THAT(Lines(*diff), ::testing::Contains("~ node a: route 192.0.2.0/24 via 10.0.0.2 added"));
  EXPECT_THAT(Lines(*diff),
              ::testing::Contains("~ node c: run [/bin/sh -c exec sleep 601] started"));
}

TEST(DiffTopologiesTest, AnMtuChangeMakesTheLinkAgain) {
  auto diff = Diff(kTwo, R"(
nodes: {a: {}, b: {}, c: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mtu: 9000}
  - {a: a:eth1, b: c:eth0, a_addr: 10.0.1.1/24, b_addr: 10.0.1.2/24}
run:
  c: ["exec sleep 600"]
)");
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_THAT(Lines(*diff), ElementsAre("! link a:eth0 <-> b:eth0: made again (mtu 0 -> 9000)"));
  EXPECT_THAT(diff->remade_ends,
              UnorderedElementsAre(std::pair(std::string("a"), std::string("eth0")),
                                   std::pair(std::string("b"), std::string("eth0"))));
}

TEST(DiffTopologiesTest, TurningToIpv6IsRefused) {
  auto diff = Diff(kTwo, R"(
nodes: {a: {}, b: {}, c: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
  - {a: a:eth1, b: c:eth0, a_addr: fd00::1/64, b_addr: fd00::2/64}
)");
  ASSERT_FALSE(diff.ok());
  EXPECT_EQ(diff.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(diff.status().message(), HasSubstr("uses IPv6"));
  EXPECT_THAT(diff.status().message(), HasSubstr("nslab down, then nslab up"));
}

}  // namespace
}  // namespace nslab::lab
