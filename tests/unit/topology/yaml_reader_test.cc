#include "daemon/topology/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/topology/validate.h"

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

TEST(ReadTopologyYaml, UstackServiceFaults) {
  const std::string base = "name: x\nnodes:\n  k: {}\n  s:\n    kind: ustack\n    services: ";
  const std::string link =
      "\nlinks: [{a: k:eth0, b: s:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]\n";
  auto topology = ReadTopologyYaml(base +
                                   "[{tcp: 80, app: http, fault: close-wait},"
                                   " {tcp: 81, app: echo, fault: {mode: reset-after, bytes: 1000}},"
                                   " {tcp: 82, app: discard, fault: {mode: slow-read, rate: 4096}},"
                                   " {tcp: 82, connect: 10.0.0.1, app: sink,"
                                   "  fault: {mode: slow-read, rate: 4096}}]" +
                                   link);
  ASSERT_TRUE(topology.ok()) << topology.status();
  const auto& services = topology->nodes(1).services();
  EXPECT_EQ(services[0].fault().mode(), "close-wait");
  EXPECT_EQ(services[1].fault().mode(), "reset-after");
  EXPECT_EQ(services[1].fault().bytes(), 1000u);
  EXPECT_EQ(services[2].fault().rate(), 4096u);
  const std::pair<std::string, std::vector<std::string>> wrong[] = {
      {"[{tcp: 80, app: http, fault: half-open}]",
       {"nodes.s.services[0].fault.mode", "unknown mode \"half-open\"", "close-wait"}},
      {"[{tcp: 80, app: http, fault: {bytes: 5}}]", {"nodes.s.services[0].fault.mode", "missing"}},
      {"[{udp: 7, app: echo, fault: refuse}]",
       {"nodes.s.services[0].fault", "faults are for tcp services"}},
      {"[{tcp: 7, connect: 10.0.0.1, app: sink, fault: refuse}]",
       {"nodes.s.services[0].fault.mode", "is a listener's (a server's) fault"}},
      {"[{tcp: 7, app: echo, fault: close-wait}, {tcp: 7, connect: 10.0.0.1, app: sink}]",
       {"nodes.s.services[1].fault", "give the services on one port the same fault"}},
      {"[{tcp: 80, app: http, fault: reset-after}]",
       {"nodes.s.services[0].fault.bytes", "reset-after needs bytes"}},
      {"[{tcp: 80, app: http, fault: {mode: slow-read}}]",
       {"nodes.s.services[0].fault.rate", "slow-read needs rate"}},
      {"[{tcp: 80, app: http, fault: {mode: refuse, bytes: 3}}]",
       {"nodes.s.services[0].fault.bytes", "only reset-after takes bytes"}},
      {"[{tcp: 80, app: http, fault: {mode: reset-after, bytes: 3, rate: 4}}]",
       {"nodes.s.services[0].fault.rate", "only slow-read takes a rate"}},
      {"[{tcp: 80, app: http, fault: {mode: refuse, after: 3}}]",
       {"nodes.s.services[0].fault.after", "unknown key"}},
      {"[{tcp: 80, app: http, fault: [refuse]}]", {"nodes.s.services[0].fault", "expected a map"}},
  };
  for (const auto& [services_text, parts] : wrong) {
    const absl::Status status = ErrorOf(base + services_text + link);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << services_text;
    for (const std::string& part : parts) {
      EXPECT_THAT(status.message(), HasSubstr(part)) << services_text;
    }
  }
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

TEST(ReadTopologyYaml, WrittenDefaultsAreExplicitValues) {
  // The zero of each enum means "the default"; a value the file spells out is kept as
  // written, so that printing the topology gives back what the user wrote.
  auto topology = ReadTopologyYaml(R"(routing: static
nodes:
  a: {}
  b: {kind: host}
links:
  - {a: a:eth0, b: b:eth0, mode: auto, a_addr: 10.0.0.1/24, impair: {distribution: uniform,
     jitter: 1ms}}
routes:
  a: [{to: default, via: 10.0.0.2, type: unicast}]
run:
  a: [{cmd: "true", restart: never}]
)");
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->routing(), nslab::v1::ROUTING_MODE_STATIC);
  EXPECT_EQ(topology->links(0).mode(), nslab::v1::LINK_MODE_AUTO);
  EXPECT_EQ(topology->links(0).impair().distribution(), nslab::v1::DELAY_DISTRIBUTION_UNIFORM);
  EXPECT_EQ(topology->nodes(0).routes(0).type(), nslab::v1::ROUTE_TYPE_UNICAST);
  EXPECT_EQ(topology->nodes(0).run(0).restart(), nslab::v1::RESTART_POLICY_NEVER);
}

TEST(ReadTopologyYaml, AnEmptyOptionMapIsPresent) {
  const std::string link =
      "links: [{a: k:eth0, b: s:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]\n";
  auto topology = ReadTopologyYaml(
      "nodes:\n  k: {}\n  s: {kind: ustack, ring: {}, offloads: {}}\n  w: {kind: switch, "
      "bridge: {}}\n" +
      link);
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_TRUE(topology->nodes(1).has_ring());
  EXPECT_TRUE(topology->nodes(1).has_offloads());
  EXPECT_TRUE(topology->nodes(2).has_bridge());
  // ...and so refused where the proto refuses it.
  EXPECT_THAT(ErrorOf("nodes: {k: {ring: {}}}\n").message(), HasSubstr("nodes.k.ring"));
  EXPECT_THAT(ErrorOf("nodes: {k: {bridge: {}}}\n").message(), HasSubstr("nodes.k.bridge"));
}

TEST(ReadTopologyYaml, FileNamesAndTheirTexts) {
  auto topology = ReadTopologyYaml(R"(nodes:
  a: {nftables_file: a.nft, nftables: "table inet a {}"}
  b: {}
links:
  - a: a:eth0
    b: b:eth0
    mode: wire
    a_to_b: {trace_file: up.trace}
    b_to_a:
      trace_file: down.trace
      trace: |
        1
        5
)");
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->nodes(0).nftables_file(), "a.nft");
  EXPECT_EQ(topology->nodes(0).nftables(), "table inet a {}");
  EXPECT_EQ(topology->links(0).a_to_b().trace_file(), "up.trace");
  EXPECT_EQ(topology->links(0).a_to_b().trace(), "");
  EXPECT_EQ(topology->links(0).b_to_a().trace_file(), "down.trace");
  EXPECT_EQ(topology->links(0).b_to_a().trace(), "1\n5\n");
  // `trace:` holds the text; a file name there is caught, with where the name goes now.
  auto status = ErrorOf(R"(nodes: {a: {}, b: {}}
links:
  - a: a:eth0
    b: b:eth0
    impair: {trace: cell.trace}
)");
  EXPECT_THAT(status.message(), HasSubstr("links[0].impair.trace: delivery trace line 1"));
  EXPECT_THAT(status.message(), HasSubstr("write trace_file:"));
  EXPECT_THAT(status.message(), HasSubstr("line 5"));
}

TEST(ReadTopologyYaml, TextMustBeUtf8) {
  // yaml-cpp passes stray bytes through; protobuf would refuse to parse them.
  auto status = ErrorOf("labels: {team: caf\xe9}\nnodes: {a: {}}\n");
  EXPECT_THAT(status.message(), HasSubstr("labels.team: not valid UTF-8"));
  EXPECT_THAT(status.message(), HasSubstr("line 1"));
  status = ErrorOf("labels: {\xed\xa0\x80: x}\nnodes: {a: {}}\n");  // a surrogate
  EXPECT_THAT(status.message(), HasSubstr("labels: a key: not valid UTF-8"));
  status = ErrorOf("nodes: {a: {}}\nrun: {a: [\"\xc0\xaf\"]}\n");  // an overlong '/'
  EXPECT_THAT(status.message(), HasSubstr("run.a[0]: not valid UTF-8"));
  EXPECT_THAT(ErrorOf("labels: {team: \"\\ud800\"}\nnodes: {a: {}}\n").message(),
              HasSubstr("not valid YAML"));
  EXPECT_THAT(ErrorOf("labels: {team: \"a\\uFFFE\"}\nnodes: {a: {}}\n").message(),
              HasSubstr("labels.team: holds a Unicode noncharacter"));
  EXPECT_TRUE(
      ReadTopologyYaml("labels: {team: \"caf\\u00e9 \\U0001F600\"}\nnodes: {a: {}}\n").ok());
}

TEST(ReadTopologyYaml, DurationsKeptInSecondsMustFit) {
  EXPECT_EQ(ReadTopologyYaml("ttl: 4294967295s\nnodes: {a: {}}\n")->ttl_seconds(), 4294967295u);
  EXPECT_EQ(ReadTopologyYaml("ttl: 1500ms\nnodes: {a: {}}\n")->ttl_seconds(), 2u);  // rounds up
  EXPECT_THAT(ErrorOf("ttl: 4294967296s\nnodes: {a: {}}\n").message(),
              HasSubstr("ttl: must be at most 4294967295s"));
  EXPECT_THAT(ErrorOf("nodes: {s: {kind: switch, bridge: {ageing: 100000000h}}}\n").message(),
              HasSubstr("nodes.s.bridge.ageing: must be at most"));
}

TEST(ValidateTopology, EnumsOutsideTheSchemaAreRefused) {
  // Values an API caller can send but no key of the file can spell.
  auto base = ReadTopologyYaml(R"(nodes: {a: {}, b: {}}
links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24}]
routes: {a: [{to: default, nexthops: [{dev: eth0}]}]}
run: {a: ["true"]}
)");
  ASSERT_TRUE(base.ok()) << base.status();
  ASSERT_FALSE(ValidateTopology(*base).has_value());
  auto with = [&](auto change) {
    nslab::v1::Topology topology = *base;
    change(topology);
    auto error = ValidateTopology(topology);
    return error ? error->path + ": " + error->message : std::string("ok");
  };
  EXPECT_THAT(with([](auto& t) { t.set_routing(static_cast<nslab::v1::RoutingMode>(7)); }),
              HasSubstr("routing: unknown routing mode"));
  EXPECT_THAT(
      with([](auto& t) { t.mutable_links(0)->set_mode(static_cast<nslab::v1::LinkMode>(9)); }),
      HasSubstr("links[0].mode: unknown mode"));
  EXPECT_THAT(
      with([](auto& t) {
        t.mutable_nodes(0)->mutable_run(0)->set_restart(static_cast<nslab::v1::RestartPolicy>(4));
      }),
      HasSubstr("run.a[0].restart: unknown restart policy"));
  EXPECT_THAT(
      with([](auto& t) {
        t.mutable_nodes(0)->mutable_routes(0)->set_type(static_cast<nslab::v1::RouteType>(5));
      }),
      HasSubstr("routes.a[0].type: unknown type"));
  EXPECT_THAT(with([](auto& t) {
                t.mutable_nodes(0)->mutable_routes(0)->mutable_nexthops(0)->set_weight(257);
              }),
              HasSubstr("routes.a[0].nexthops[0].weight: must be from 1 to 256"));
}

}  // namespace
}  // namespace nslab::topology
