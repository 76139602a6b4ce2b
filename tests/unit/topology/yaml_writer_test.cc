#include "daemon/topology/yaml_writer.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>

#include "daemon/topology/yaml_reader.h"

namespace nslab::topology {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

nslab::v1::Topology Read(const std::string& text) {
  auto topology = ReadTopologyYaml(text);
  EXPECT_TRUE(topology.ok()) << topology.status();
  return topology.ok() ? *topology : nslab::v1::Topology();
}

std::string Write(const nslab::v1::Topology& topology) {
  auto text = WriteTopologyYaml(topology);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// Written the long way, with every convenience the reader takes.
constexpr char kEverySection[] = R"(name: two-site
seed: 42
labels: {team: net, on-call: "yes", note: "two lines\nof text"}
ttl: 600s
routing: static
nodes:
  client:
  gw:
    kind: router
    nftables: |
      table ip nat {
        chain post { type nat hook postrouting priority 100; oifname "wan0" masquerade; }
      }
  wan: {kind: switch, bridge: {stp: yes, ageing: 30000ms}}
  web:
    kind: ustack
    services: [{tcp: 80, app: http}, {tcp: 5001, connect: 203.0.113.1, app: source, bytes: 1000000},
               {tcp: 81, app: http, fault: {mode: close-wait}},
               {tcp: 82, app: echo, fault: {mode: reset-after, bytes: 1000}},
               {tcp: 83, app: discard, fault: {rate: 4096, mode: slow-read}}]
    ring: {rx: 256, tx: 64}
    offloads: {csum: true, tso: on}
links:
  - {a: client:eth0, b: gw:lan0, a_addr: [10.0.1.2/24, "2001:db8:1::2/64"], b_addr: [10.0.1.1/24],
     a_mac: "02:00:00:00:00:01", mtu: 9000}
  - {name: uplink, a: gw:wan0, b: wan:p1, a_addr: 203.0.113.1/24, mode: veth}
  - a: web:eth0
    b: wan:p2
    a_addr: 203.0.113.9/24
    mode: wire
    impair: {delay: 40, jitter: 5000us, distribution: normal, loss: 0.1, rate: 20000kbit, burst: 32768}
    a_to_b: {gilbert_elliott: {p: 5, r: 30%, h: 100}}
    b_to_a:
      trace_file: cell.trace
      trace: "1\n5\n"
routes:
  client:
    - {to: default, via: 10.0.1.1}
    - {to: 198.51.100.0/24, type: blackhole}
  gw:
    - {to: 192.0.2.0/24, nexthops: [{via: 203.0.113.2, weight: 2}, {dev: wan0}], table: 100}
  web: [{to: default, via: 203.0.113.1}]
rules:
  gw: [{from: 10.0.1.0/24, fwmark: 16, priority: 1000, table: 100}]
sysctls:
  client: {net.ipv4.tcp_congestion_control: cubic, net.ipv4.conf.all.rp_filter: 0}
run:
  client: ["python3 -m http.server 8080", {cmd: ./worker, restart: on-failure},
           {argv: [sleep, "1"], restart: always}]
)";

// ...and as nslab prints it: one spelling for each value, the largest exact unit, defaults
// left out, one line per node, link, route and impairment unless a block of text needs more.
constexpr char kPrinted[] = R"(name: two-site
seed: 42
labels:
  note: "two lines\nof text"
  on-call: "yes"
  team: net
ttl: 10m
routing: static
nodes:
  client: {kind: host}
  gw:
    kind: router
    nftables: |
      table ip nat {
        chain post { type nat hook postrouting priority 100; oifname "wan0" masquerade; }
      }
  wan: {kind: switch, bridge: {stp: true, ageing: 30s}}
  web:
    kind: ustack
    services:
      - {tcp: 80, app: http}
      - {tcp: 5001, connect: 203.0.113.1, app: source, bytes: 1000000}
      - {tcp: 81, app: http, fault: close-wait}
      - {tcp: 82, app: echo, fault: {mode: reset-after, bytes: 1000}}
      - {tcp: 83, app: discard, fault: {mode: slow-read, rate: 4096}}
    ring: {rx: 256, tx: 64}
    offloads: {csum: true, tso: true}
links:
  - {a: client:eth0, b: gw:lan0, a_addr: [10.0.1.2/24, 2001:db8:1::2/64], b_addr: 10.0.1.1/24, a_mac: "02:00:00:00:00:01", mtu: 9000}
  - {name: uplink, a: gw:wan0, b: wan:p1, a_addr: 203.0.113.1/24, mode: veth}
  - a: web:eth0
    b: wan:p2
    a_addr: 203.0.113.9/24
    mode: wire
    impair: {delay: 40ms, jitter: 5ms, distribution: normal, loss: 0.1%, rate: 20mbit, burst: 32kb}
    a_to_b: {gilbert_elliott: {p: 5%, r: 30%, h: 100%}}
    b_to_a:
      trace_file: cell.trace
      trace: |
        1
        5
routes:
  client:
    - {to: default, via: 10.0.1.1}
    - {to: 198.51.100.0/24, type: blackhole}
  gw:
    - {to: 192.0.2.0/24, table: 100, nexthops: [{via: 203.0.113.2, weight: 2}, {dev: wan0}]}
  web:
    - {to: default, via: 203.0.113.1}
rules:
  gw:
    - {from: 10.0.1.0/24, fwmark: 0x10, priority: 1000, table: 100}
sysctls:
  client:
    net.ipv4.conf.all.rp_filter: "0"
    net.ipv4.tcp_congestion_control: cubic
run:
  client:
    - python3 -m http.server 8080
    - {cmd: ./worker, restart: on-failure}
    - {argv: [sleep, "1"], restart: always}
)";

TEST(WriteTopologyYaml, PrintsTheConveniencesTheReaderTakes) {
  const nslab::v1::Topology topology = Read(kEverySection);
  EXPECT_EQ(Write(topology), kPrinted);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(Read(kPrinted), topology));
}

TEST(WriteTopologyYaml, ExplicitDefaultsArePrintedAndUnsetOnesLeftOut) {
  nslab::v1::Topology topology = Read(R"(nodes: {a: {}, b: {}}
links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24}]
routes: {a: [{to: default, via: 10.0.0.2}]}
run: {a: ["true"]}
)");
  const std::string unset = Write(topology);
  for (const char* key : {"routing:", "mode:", "type:", "restart:", "impair", "ring"}) {
    EXPECT_THAT(unset, Not(HasSubstr(key)));
  }
  topology.set_routing(nslab::v1::ROUTING_MODE_STATIC);
  topology.mutable_links(0)->set_mode(nslab::v1::LINK_MODE_AUTO);
  topology.mutable_links(0)->mutable_b_to_a();  // present and empty: overrides `impair`
  topology.mutable_nodes(0)->mutable_routes(0)->set_type(nslab::v1::ROUTE_TYPE_UNICAST);
  topology.mutable_nodes(0)->mutable_run(0)->set_restart(nslab::v1::RESTART_POLICY_NEVER);
  const std::string set = Write(topology);
  EXPECT_THAT(set, HasSubstr("routing: static\n"));
  EXPECT_THAT(set, HasSubstr("    mode: auto\n    b_to_a: {}\n"));
  EXPECT_THAT(set, HasSubstr("type: unicast}"));
  EXPECT_THAT(set, HasSubstr("- {cmd: \"true\", restart: never}"));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(Read(set), topology));
}

TEST(WriteTopologyYaml, TextThatIsHardToPrintReadsBackTheSame) {
  const std::string texts[] = {
      "",         "null",         "~",          "yes",    "0",         "1.5e3",
      "12:30",    "- a",          "a: b",       "a #b",   "#x",        "[a]",
      "{}",       "'quoted'",     "\"quoted\"", " lead",  "trail ",    "\ttab",
      "a\rb",     "a\r",          "line\n",     "line",   "\nlead\n",  "two\n\n",
      "  deep\n", "a\n  b\n",     "x\x01y",     "nul\0x", "caf\u00e9", "\u2028\u0085",
      "\ufeff",   "\U0001F600\n", "a\n- b\n",   "|\n",    ">\n",       "---\n...\n"};
  for (std::string text : texts) {
    if (text == "nul") {
      text = std::string("nul\0x", 5);
    }
    nslab::v1::Topology topology = Read("nodes: {a: {}}\n");
    (*topology.mutable_labels())[text] = text;
    topology.mutable_nodes(0)->set_nftables(text);
    topology.mutable_nodes(0)->set_nftables_file(text.empty() ? "x" : text);
    auto* shell = topology.mutable_nodes(0)->add_run();
    for (const std::string& arg : {std::string("/bin/sh"), std::string("-c"), text}) {
      shell->add_argv(arg);
    }
    auto* argv = topology.mutable_nodes(0)->add_run();
    argv->add_argv("x");
    argv->add_argv(text);
    argv->set_restart(nslab::v1::RESTART_POLICY_ALWAYS);
    const std::string printed = Write(topology);
    auto read = ReadTopologyYaml(printed);
    ASSERT_TRUE(read.ok()) << read.status() << "\n" << printed;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*read, topology))
        << "text \"" << text << "\" printed as:\n"
        << printed;
  }
}

TEST(WriteTopologyYaml, RefusesWhatTheFileFormatCannotCarry) {
  nslab::v1::Topology topology = Read("nodes: {a: {}}\n");
  auto status = [&](auto change) {
    nslab::v1::Topology changed = topology;
    change(changed);
    return WriteTopologyYaml(changed).status();
  };
  // What does not validate: here a route the reader would refuse.
  auto refused = status([](auto& t) { t.mutable_nodes(0)->add_routes()->set_to("default"); });
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("routes.a[0]: a route needs via, dev or nexthops"));
  refused = status([](auto& t) {
    t.mutable_nodes(0)->add_run()->add_argv("x");
    t.mutable_nodes(0)->mutable_run(0)->set_restart(static_cast<nslab::v1::RestartPolicy>(7));
  });
  EXPECT_THAT(refused.message(), HasSubstr("run.a[0].restart: unknown restart policy"));
  // Text protobuf itself would refuse to carry, or YAML printers would change.
  refused = status([](auto& t) { (*t.mutable_labels())["team"] = "caf\xe9"; });
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(),
              HasSubstr("labels.team: not valid UTF-8 text: it cannot be printed as YAML"));
  refused = status([](auto& t) { t.mutable_nodes(0)->set_nftables("a\uFFFE"); });
  EXPECT_THAT(refused.message(), HasSubstr("nodes.a.nftables: holds a Unicode noncharacter"));
  // What the reader's limits refuse, it refuses to print too.
  refused = status([](auto& t) { (*t.mutable_labels())["x"] = std::string(100, '{'); });
  EXPECT_THAT(refused.message(), HasSubstr("would not read back: nested more than 64 levels"));
  EXPECT_THAT(ReadTopologyYaml("labels: {x: \"" + std::string(100, '{') + "\"}\nnodes: {a: {}}\n")
                  .status()
                  .message(),
              HasSubstr("nested more than 64 levels"));
  refused = status([](auto& t) { t.mutable_nodes(0)->set_nftables(std::string(5 << 20, 'x')); });
  EXPECT_THAT(refused.message(), HasSubstr("larger than 4 MiB"));
}

}  // namespace
}  // namespace nslab::topology
