#include "daemon/topology/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nslab::topology {
namespace {

using ::testing::HasSubstr;

constexpr char kQuickstart[] = R"(name: quickstart
nodes:
  client: {kind: host}
  server: {kind: host}
links:
  - {a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
)";

absl::Status ErrorOf(const std::string& text) { return ReadTopologyYaml(text).status(); }

TEST(ReadTopologyYaml, Quickstart) {
  auto topology = ReadTopologyYaml(kQuickstart);
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->name(), "quickstart");
  ASSERT_EQ(topology->nodes_size(), 2);
  EXPECT_EQ(topology->nodes(0).name(), "client");  // file order is kept
  EXPECT_EQ(topology->nodes(0).kind(), nslab::v1::NODE_KIND_HOST);
  ASSERT_EQ(topology->links_size(), 1);
  EXPECT_EQ(topology->links(0).a().node(), "client");
  EXPECT_EQ(topology->links(0).a().interface(), "eth0");
  EXPECT_THAT(topology->links(0).b().addresses(), ::testing::ElementsAre("10.0.0.2/24"));
}

TEST(ReadTopologyYaml, EverySectionOfTheSchema) {
  auto topology = ReadTopologyYaml(R"(name: two-site
seed: 42
labels: {team: net}
ttl: 10m
nodes:
  client:
  gw:
    kind: router
    nftables: |
      table ip nat { chain post { type nat hook postrouting priority 100; } }
  wan: {kind: switch, bridge: {stp: false, ageing: 30s}}
links:
  - {a: client:eth0, b: gw:lan0, a_addr: [10.0.1.2/24, "2001:db8:1::2/64"], b_addr: 10.0.1.1/24,
     a_mac: "02:00:00:00:00:01", mtu: 9000}
  - {name: uplink, a: gw:wan0, b: wan:p1, a_addr: 203.0.113.1/24}
routes:
  client:
    - {to: default, via: 10.0.1.1}
    - {to: 198.51.100.0/24, type: blackhole}
  gw:
    - {to: 192.0.2.0/24, nexthops: [{via: 203.0.113.2, weight: 2}, {via: 203.0.113.3}],
       table: 100, metric: 10}
rules:
  gw: [{from: 10.0.1.0/24, table: 100, priority: 1000, fwmark: 0x10}]
sysctls:
  client: {net.ipv4.tcp_congestion_control: cubic}
)");
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->seed(), 42u);
  EXPECT_EQ(topology->ttl_seconds(), 600u);
  EXPECT_EQ(topology->labels().at("team"), "net");
  EXPECT_EQ(topology->nodes(2).kind(), nslab::v1::NODE_KIND_SWITCH);
  EXPECT_EQ(topology->nodes(2).bridge().ageing_seconds(), 30u);
  EXPECT_EQ(topology->links(0).a().addresses_size(), 2);
  EXPECT_EQ(topology->links(0).mtu(), 9000u);
  EXPECT_EQ(topology->links(1).name(), "uplink");
  const auto& gw = topology->nodes(1);
  EXPECT_THAT(gw.nftables(), HasSubstr("postrouting"));
  ASSERT_EQ(gw.routes_size(), 1);
  EXPECT_EQ(gw.routes(0).nexthops_size(), 2);
  EXPECT_EQ(gw.routes(0).table(), 100u);
  ASSERT_EQ(gw.rules_size(), 1);
  EXPECT_EQ(gw.rules(0).fwmark(), 0x10u);
  EXPECT_EQ(topology->nodes(0).routes(1).type(), nslab::v1::ROUTE_TYPE_BLACKHOLE);
  EXPECT_EQ(topology->nodes(0).sysctls().at("net.ipv4.tcp_congestion_control"), "cubic");
}

TEST(ReadTopologyYaml, UnknownKeyNamesPathAndLine) {
  auto status = ErrorOf(R"(name: x
nodes:
  client: {kind: host, colour: blue}
)");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("nodes.client.colour"));
  EXPECT_THAT(status.message(), HasSubstr("unknown key"));
  EXPECT_THAT(status.message(), HasSubstr("line 3"));
}

TEST(ReadTopologyYaml, UnknownNodeInLink) {
  auto status = ErrorOf(R"(name: x
nodes:
  client: {}
  server: {}
links:
  - {a: client:eth0, b: server:eth0}
  - {a: client:eth1, b: srv:eth0}
)");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("links[1].b: node \"srv\" is not defined"));
  EXPECT_THAT(status.message(), HasSubstr("line 7"));
}

TEST(ReadTopologyYaml, DuplicateInterface) {
  auto status = ErrorOf(R"(name: x
nodes: {a: {}, b: {}, c: {}}
links:
  - {a: a:eth0, b: b:eth0}
  - {a: a:eth0, b: c:eth0}
)");
  EXPECT_THAT(status.message(), HasSubstr("links[1].a"));
  EXPECT_THAT(status.message(), HasSubstr("a:eth0 is used by another link"));
}

TEST(ReadTopologyYaml, BadCidr) {
  auto status = ErrorOf(R"(name: x
nodes: {a: {}, b: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.300/24}
)");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("links[0].a_addr[0]"));
  EXPECT_THAT(status.message(), HasSubstr("10.0.0.300/24"));
}

TEST(ReadTopologyYaml, RejectsBadShapesWithPaths) {
  EXPECT_THAT(ErrorOf("name: x\n").message(), HasSubstr("nodes"));
  EXPECT_THAT(ErrorOf("name: x\nnodes: [a, b]\n").message(), HasSubstr("nodes: expected a map"));
  EXPECT_THAT(ErrorOf("name: x\nnodes: {a: {kind: server}}\n").message(),
              HasSubstr("unknown kind \"server\""));
  EXPECT_THAT(ErrorOf("name: Bad\nnodes: {a: {}}\n").message(), HasSubstr("name:"));
  EXPECT_THAT(ErrorOf("name: x\nnodes: {a: {}, b: {}}\nlinks: [{a: a, b: b:eth0}]\n").message(),
              HasSubstr("not node:interface"));
  EXPECT_THAT(ErrorOf("name: x\nnodes: {a: {}}\nroutes: {b: []}\n").message(),
              HasSubstr("routes.b: node \"b\" is not defined"));
  EXPECT_THAT(ErrorOf("name: x\nnodes: {a: {}}\nsysctls: {a: {kernel.panic: 1}}\n").message(),
              HasSubstr("only net.*"));
  EXPECT_THAT(ErrorOf("name: x\nnodes: {a: {}}\nroutes: {a: [{to: default}]}\n").message(),
              HasSubstr("needs via, dev or nexthops"));
  EXPECT_THAT(
      ErrorOf("name: x\nnodes: {a: {}}\nroutes: {a: [{to: 10.0.0.0/8, dev: eth9}]}\n").message(),
      HasSubstr("has no interface \"eth9\""));
  EXPECT_THAT(ErrorOf("name: x\nnodes: {a: {}, s: {kind: switch}}\n"
                      "links: [{a: a:eth0, b: s:p1, b_addr: 10.0.0.1/24}]\n")
                  .message(),
              HasSubstr("switch port carries no address"));
  EXPECT_THAT(ErrorOf("nodes: {a: {kind: host}\n").message(), HasSubstr("not valid YAML"));
}

TEST(ReadTopologyYaml, DeepNestingIsRefusedBeforeParsing) {
  auto status = ErrorOf("name: x\nnodes: " + std::string(100000, '['));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("nested more than 64 levels"));
  std::string dashes = "name: x\nnodes:\n";
  for (int i = 0; i < 5000; ++i) {
    dashes += "- ";
  }
  EXPECT_THAT(ErrorOf(dashes).message(), HasSubstr("nested more than"));
}

TEST(ReadTopologyYaml, UstackNodeSchema) {
  const std::string base = "name: x\nnodes:\n  k: {}\n  s:\n    kind: ustack\n";
  const std::string link =
      "links: [{a: k:eth0, b: s:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]\n";
  EXPECT_TRUE(ErrorOf(base + "    services: [{udp: 7, app: echo}, {udp: 9, app: discard}]\n" +
                      "    ring: {rx: 64, tx: 1024}\n" + link)
                  .ok());
  auto status = ErrorOf(base);  // no link
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(status.message(), HasSubstr("exactly one link"));
  EXPECT_TRUE(
      ErrorOf(base + "    services: [{tcp: 7, app: echo}, {tcp: 19, app: chargen}]\n" + link).ok());
  EXPECT_TRUE(ErrorOf(base + "    services: [{tcp: 80, app: http}]\n" + link).ok());
  status = ErrorOf(base + "    services: [{udp: 19, app: chargen}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("chargen and http are tcp only"));
  status = ErrorOf(base + "    services: [{tcp: 7, app: echo}, {tcp: 7, app: discard}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("tcp port 7 has another service"));
  status = ErrorOf(base + "    services: [{udp: 7, app: http}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("nodes.s.services[0].app"));
  EXPECT_THAT(status.message(), HasSubstr("http are tcp only"));
  // Clients connect out and bind no port: a client beside a server on its port is fine.
  EXPECT_TRUE(ErrorOf(base +
                      "    services: [{tcp: 5001, connect: 10.0.0.1, app: source, bytes: 1000},\n"
                      "               {tcp: 5001, connect: 10.0.0.1, app: sink},\n"
                      "               {tcp: 5001, app: echo}]\n" +
                      link)
                  .ok());
  status = ErrorOf(base + "    services: [{tcp: 5001, connect: 10.0.0, app: source}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("nodes.s.services[0].connect"));
  EXPECT_THAT(status.message(), HasSubstr("not an IPv4 address"));
  status = ErrorOf(base + "    services: [{udp: 7, connect: 10.0.0.1, app: source}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("only tcp services connect out"));
  status = ErrorOf(base + "    services: [{tcp: 7, connect: 10.0.0.1, app: echo}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("nodes.s.services[0].app"));
  EXPECT_THAT(status.message(), HasSubstr("source, sink, hold"));
  status =
      ErrorOf(base + "    services: [{tcp: 7, connect: 10.0.0.1, app: sink, bytes: 5}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("nodes.s.services[0].bytes"));
  status = ErrorOf(base + "    services: [{tcp: 7, app: echo, bytes: 5}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("a byte count is for a client"));
  status = ErrorOf(base + "    services: [{tcp: 7, app: source}]\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("with connect: source"));
  status = ErrorOf(base + "    ring: {rx: 100}\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("power of two"));
  status = ErrorOf("name: x\nnodes: {k: {services: [{udp: 7, app: echo}]}}\n");
  EXPECT_THAT(status.message(), HasSubstr("only for nodes of kind ustack"));
  EXPECT_TRUE(ErrorOf(base + "    offloads: {csum: true, tso: true}\n" + link).ok());
  status = ErrorOf(base + "    offloads: {tso: true}\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("nodes.s.offloads.tso"));
  EXPECT_THAT(status.message(), HasSubstr("needs csum"));
  status = ErrorOf(base + "    offloads: {gso: true}\n" + link);
  EXPECT_THAT(status.message(), HasSubstr("nodes.s.offloads"));
  status = ErrorOf("name: x\nnodes: {k: {offloads: {csum: true}}}\n");
  EXPECT_THAT(status.message(), HasSubstr("nodes.k.offloads"));
  status = ErrorOf(base + "links: [{a: k:eth0, b: s:eth0, b_addr: 2001:db8::2/64}]\n");
  EXPECT_THAT(status.message(), HasSubstr("exactly one IPv4 address"));
}

}  // namespace
}  // namespace nslab::topology
