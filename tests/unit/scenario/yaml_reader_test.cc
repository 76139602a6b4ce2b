// ReadScenarioYaml on files that are right: every key lands in its field.
#include "daemon/scenario/spec/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "daemon/scenario/spec/describe.h"
#include "daemon/scenario/spec/signals.h"

namespace nslab::scenario {
namespace {

using ::testing::ElementsAre;

// The example of the task and of docs/scenario-format.md, line for line.
constexpr char kExample[] = R"(name: web-survives-partition
seed: 42
steps:
  - {at: 0s, check: {name: web-up, from: client, tcp: "10.0.0.2:8080", within: 5s}}
  - {at: 1s, partition: {groups: [[client], [server]], mode: drop}, for: 2s}
  - {at: 1.5s, check: {name: blocked, from: client, tcp: "10.0.0.2:8080", timeout: 500ms, expect: fail}}
  - {at: 2s, impair: {link: "client:eth0", direction: a-to-b, delay: 40ms, loss: 5%}, for: 1s, jitter: 200ms}
  - {at: 4s, check: {name: steady, from: client, http: "http://10.0.0.2:8080/", status: 200, every: 100ms, for: 2s}}
  - {at: 5s, kill: {node: server, process: nginx, signal: TERM}}
  - {at: 6s, exec: {node: client, argv: [sh, -c, "echo hi"]}}
  - at: 7s
    parallel:
      - {at: 0s, link_down: {link: wan}, for: 500ms}
      - {at: 100ms, check: {name: p, from: client, ping: 10.0.0.2, count: 3, max_loss: 100%, max_rtt: 50ms}}
  - {at: 8s, serial: [{at: 0s, heal: {}}, {at: 200ms, flush_firewall: {node: server}}]}
  - {at: 9s, check: {name: drops, counter: {wire: "client:eth0:a-to-b:dropped_loss", min: 1}}}
  - {at: 9s, check: {name: rc, from: client, exec: [true], exit: 0}}
  - {at: 9s, ustack_fault: {node: srv, port: 80, mode: close-wait}}
)";

absl::StatusOr<nslab::v1::Scenario> Read(const std::string& steps) {
  return ReadScenarioYaml("name: s\nsteps:\n" + steps);
}

TEST(ReadScenarioYaml, TheExample) {
  auto scenario = ReadScenarioYaml(kExample);
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  EXPECT_EQ(scenario->name(), "web-survives-partition");
  EXPECT_EQ(scenario->seed(), 42u);
  ASSERT_EQ(scenario->steps_size(), 12);

  const auto& web_up = scenario->steps(0);
  EXPECT_EQ(web_up.at_ms(), 0u);
  EXPECT_EQ(web_up.check().name(), "web-up");
  EXPECT_EQ(web_up.check().from(), "client");
  EXPECT_EQ(web_up.check().tcp(), "10.0.0.2:8080");
  EXPECT_EQ(web_up.check().within_ms(), 5000u);

  const auto& partition = scenario->steps(1);
  EXPECT_EQ(partition.at_ms(), 1000u);
  EXPECT_EQ(partition.for_ms(), 2000u);
  ASSERT_EQ(partition.action().partition().groups_size(), 2);
  EXPECT_THAT(partition.action().partition().groups(1).nodes(), ElementsAre("server"));
  EXPECT_EQ(partition.action().partition().mode(), nslab::v1::PARTITION_MODE_DROP);

  const auto& blocked = scenario->steps(2);
  EXPECT_EQ(blocked.at_ms(), 1500u);
  EXPECT_EQ(blocked.check().timeout_ms(), 500u);
  EXPECT_EQ(blocked.check().expect(), nslab::v1::EXPECT_FAIL);

  const auto& impair = scenario->steps(3);
  EXPECT_EQ(impair.jitter_ms(), 200u);
  EXPECT_EQ(impair.for_ms(), 1000u);
  EXPECT_EQ(impair.action().impair().link(), "client:eth0");
  EXPECT_EQ(impair.action().impair().direction(), nslab::v1::DIRECTION_A_TO_B);
  EXPECT_EQ(impair.action().impair().impairment().delay_us(), 40000u);
  EXPECT_DOUBLE_EQ(impair.action().impair().impairment().loss(), 5);

  const auto& steady = scenario->steps(4);
  EXPECT_EQ(steady.check().http(), "http://10.0.0.2:8080/");
  EXPECT_EQ(steady.check().status(), 200u);
  EXPECT_EQ(steady.check().every_ms(), 100u);
  EXPECT_EQ(steady.for_ms(), 2000u);  // the check's for: is the step's

  EXPECT_EQ(scenario->steps(5).action().kill().process(), "nginx");
  EXPECT_EQ(scenario->steps(5).action().kill().signal(), "TERM");
  EXPECT_THAT(scenario->steps(6).action().exec().argv(), ElementsAre("sh", "-c", "echo hi"));

  const auto& parallel = scenario->steps(7).parallel();
  ASSERT_EQ(parallel.steps_size(), 2);
  EXPECT_EQ(parallel.steps(0).action().link_down().link(), "wan");
  EXPECT_EQ(parallel.steps(0).for_ms(), 500u);
  const auto& ping = parallel.steps(1).check();
  EXPECT_EQ(parallel.steps(1).at_ms(), 100u);
  EXPECT_EQ(ping.ping(), "10.0.0.2");
  EXPECT_EQ(ping.count(), 3u);
  EXPECT_DOUBLE_EQ(ping.max_loss(), 100);
  EXPECT_EQ(ping.max_rtt_us(), 50000u);

  const auto& serial = scenario->steps(8).serial();
  ASSERT_EQ(serial.steps_size(), 2);
  EXPECT_TRUE(serial.steps(0).action().has_heal());
  EXPECT_EQ(serial.steps(1).action().flush_firewall().node(), "server");

  const auto& drops = scenario->steps(9).check().counter();
  EXPECT_EQ(drops.wire(), "client:eth0:a-to-b:dropped_loss");
  EXPECT_TRUE(drops.has_min());
  EXPECT_EQ(drops.min(), 1u);
  EXPECT_FALSE(drops.has_max());

  EXPECT_THAT(scenario->steps(10).check().exec().argv(), ElementsAre("true"));
  EXPECT_EQ(scenario->steps(10).check().exec().exit(), 0);

  const auto& fault = scenario->steps(11).action().ustack_fault();
  EXPECT_EQ(fault.node(), "srv");
  EXPECT_EQ(fault.port(), 80u);
  EXPECT_EQ(fault.mode(), "close-wait");
}

TEST(ReadScenarioYaml, DurationsInEveryUnit) {
  auto scenario = Read(R"(
  - {at: 0, link_up: {link: wan}}
  - {at: 250, link_up: {link: wan}}
  - {at: 1.5s, link_up: {link: wan}}
  - {at: 2m, link_up: {link: wan}}
  - {at: 1h, link_up: {link: wan}, jitter: 1500ms}
)");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  EXPECT_EQ(scenario->steps(0).at_ms(), 0u);
  EXPECT_EQ(scenario->steps(1).at_ms(), 250u);  // a bare number is milliseconds
  EXPECT_EQ(scenario->steps(2).at_ms(), 1500u);
  EXPECT_EQ(scenario->steps(3).at_ms(), 120'000u);
  EXPECT_EQ(scenario->steps(4).at_ms(), 3'600'000u);
  EXPECT_EQ(scenario->steps(4).jitter_ms(), 1500u);
}

TEST(ReadScenarioYaml, EveryLinkAction) {
  auto scenario = Read(R"(
  - {at: 0s, impair: {link: wan, rate: 20mbit, jitter: 5ms, delay: 10ms, distribution: normal,
                      duplicate: 1, reorder: 2%, corrupt: 0.5%, limit: 100}}
  - {at: 0s, clear: {link: "client:eth0", direction: b-to-a}, for: 1s}
  - {at: 0s, clear: {link: wan}}
  - {at: 0s, link_down: {link: wan, end: a}}
  - {at: 0s, link_up: {link: wan, end: both}}
  - {at: 0s, flap: {link: wan, end: b, down: 200ms, up: 1s, count: 3}}
)");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const auto& impairment = scenario->steps(0).action().impair().impairment();
  EXPECT_EQ(impairment.rate_bps(), 20'000'000u);
  EXPECT_EQ(impairment.jitter_us(), 5000u);
  EXPECT_EQ(impairment.distribution(), nslab::v1::DELAY_DISTRIBUTION_NORMAL);
  EXPECT_DOUBLE_EQ(impairment.duplicate(), 1);
  EXPECT_DOUBLE_EQ(impairment.corrupt(), 0.5);
  EXPECT_EQ(impairment.limit_packets(), 100u);
  EXPECT_EQ(scenario->steps(0).action().impair().direction(), nslab::v1::DIRECTION_UNSPECIFIED);
  EXPECT_EQ(scenario->steps(1).action().clear().direction(), nslab::v1::DIRECTION_B_TO_A);
  EXPECT_EQ(scenario->steps(3).action().link_down().end(), nslab::v1::LINK_END_A);
  EXPECT_EQ(scenario->steps(4).action().link_up().end(), nslab::v1::LINK_END_BOTH);
  const auto& flap = scenario->steps(5).action().flap();
  EXPECT_EQ(flap.end(), nslab::v1::LINK_END_B);
  EXPECT_EQ(flap.down_ms(), 200u);
  EXPECT_EQ(flap.up_ms(), 1000u);
  EXPECT_EQ(flap.count(), 3u);
}

TEST(ReadScenarioYaml, FlowActionsTakeAMatch) {
  auto scenario = Read(R"(
  - {at: 0s, impair: {link: wan, match: "tcp  dport 5432", delay: 100ms}, for: 1s}
  - {at: 0s, impair: {link: wan, match: "udp"}}
  - {at: 2s, clear: {link: wan, direction: a-to-b, match: "tcp dport 5432"}}
)");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const auto& impair = scenario->steps(0).action().impair();
  EXPECT_EQ(impair.match().protocol(), "tcp");
  EXPECT_EQ(impair.match().destination_port().first(), 5432u);
  EXPECT_EQ(impair.impairment().delay_us(), 100000u);
  EXPECT_EQ(scenario->steps(1).action().impair().impairment().ByteSizeLong(), 0u);
  EXPECT_EQ(scenario->steps(2).action().clear().match().destination_port().first(), 5432u);

  auto bad = Read(R"(
  - {at: 0s, impair: {link: wan, match: "dport 5432", delay: 1ms}}
)");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("steps[0].impair.match"));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("tcp dport"));
}

TEST(ReadScenarioYaml, EveryNodeAction) {
  auto scenario = Read(R"(
  - {at: 0s, partition: {groups: [client, [server, db]], mode: reject}}
  - at: 0s
    heal:
  - at: 0s
    firewall:
      node: server
      ruleset: |
        table inet filter { chain input { type filter hook input priority 0; } }
    for: 2s
  - {at: 0s, restart: {node: server}}
  - {at: 0s, kill: {node: server, process: stack, signal: sigkill}}
  - {at: 0s, exec: {node: client, cmd: "curl -s http://x | wc -c", timeout: 3s}}
  - {at: 0s, ustack_fault: {node: srv, port: 8080, mode: reset-after, bytes: 1kb}}
  - {at: 0s, ustack_fault: {node: srv, port: 8080, mode: slow-read, rate: 100}, for: 1s}
)");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const auto& partition = scenario->steps(0).action().partition();
  ASSERT_EQ(partition.groups_size(), 2);
  EXPECT_THAT(partition.groups(0).nodes(), ElementsAre("client"));  // a word is a group of one
  EXPECT_THAT(partition.groups(1).nodes(), ElementsAre("server", "db"));
  EXPECT_EQ(partition.mode(), nslab::v1::PARTITION_MODE_REJECT);
  EXPECT_TRUE(scenario->steps(1).action().has_heal());
  EXPECT_EQ(scenario->steps(2).action().firewall().node(), "server");
  EXPECT_THAT(scenario->steps(2).action().firewall().ruleset(), ::testing::HasSubstr("hook input"));
  EXPECT_EQ(scenario->steps(3).action().restart().node(), "server");
  EXPECT_EQ(scenario->steps(3).action().restart().signal(), "");
  EXPECT_EQ(scenario->steps(4).action().kill().signal(), "sigkill");
  EXPECT_THAT(scenario->steps(5).action().exec().argv(),
              ElementsAre("/bin/sh", "-c", "curl -s http://x | wc -c"));
  EXPECT_EQ(scenario->steps(5).action().exec().timeout_ms(), 3000u);
  EXPECT_EQ(scenario->steps(6).action().ustack_fault().bytes(), 1024u);
  EXPECT_EQ(scenario->steps(7).action().ustack_fault().rate(), 100u);
}

TEST(ReadScenarioYaml, EveryCheckKey) {
  auto scenario = Read(R"(
  - {at: 0s, check: {name: a, from: c, exec: {cmd: "test -f /x"}, exit: 1, timeout: 2s}}
  - {at: 0s, check: {name: b, from: c, exec: {argv: [ls, /]}, expect: ok}}
  - {at: 0s, check: {name: c, from: c, http: "http://[2001:db8::2]:8080/x", within: 1m}}
  - {at: 0s, check: {name: d, from: srv, counter: {ustack: tcp.retrans_segs, max: 10, increase: true}}}
  - {at: 0s, check: {name: e, from: gw, counter: {nft: "filter/input/drop ssh", min: 0, max: 5}}}
  - {at: 0s, check: {name: f, from: c, ping: "2001:db8::2", max_loss: 20, every: 1s}, for: 3s}
  - {at: 0s, check: {name: g, counter: {wire: "wan:b-to-a:forwarded", min: 1}}}
)");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const auto& a = scenario->steps(0).check();
  EXPECT_THAT(a.exec().argv(), ElementsAre("/bin/sh", "-c", "test -f /x"));
  EXPECT_EQ(a.exec().exit(), 1);
  EXPECT_EQ(a.timeout_ms(), 2000u);
  EXPECT_THAT(scenario->steps(1).check().exec().argv(), ElementsAre("ls", "/"));
  EXPECT_EQ(scenario->steps(1).check().expect(), nslab::v1::EXPECT_OK);
  EXPECT_EQ(scenario->steps(2).check().within_ms(), 60'000u);
  const auto& d = scenario->steps(3).check().counter();
  EXPECT_EQ(d.ustack(), "tcp.retrans_segs");
  EXPECT_FALSE(d.has_min());
  EXPECT_EQ(d.max(), 10u);
  EXPECT_TRUE(d.increase());
  EXPECT_EQ(scenario->steps(4).check().counter().nft(), "filter/input/drop ssh");
  EXPECT_TRUE(scenario->steps(4).check().counter().has_min());  // min: 0 is a bound too
  EXPECT_DOUBLE_EQ(scenario->steps(5).check().max_loss(), 20);
  EXPECT_EQ(scenario->steps(5).for_ms(), 3000u);
  EXPECT_EQ(scenario->steps(6).check().counter().wire(), "wan:b-to-a:forwarded");
}

TEST(ReadScenarioYaml, SerialMembersMayOmitAt) {
  auto scenario = Read(R"(
  - at: 1s
    serial:
      - {link_down: {link: wan}, for: 1s}
      - {at: 500ms, link_up: {link: wan}}
)");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  EXPECT_EQ(scenario->steps(0).serial().steps(0).at_ms(), 0u);
  EXPECT_EQ(scenario->steps(0).serial().steps(1).at_ms(), 500u);
}

TEST(ScenarioOfRequest, TakesTheMessageOrTheTextNotBoth) {
  constexpr absl::string_view kText = R"(name: one
steps:
  - {at: 1s, link_down: {link: wan}, for: 1s}
)";
  auto from_text = ScenarioOfRequest(nullptr, kText);
  ASSERT_TRUE(from_text.ok()) << from_text.status();
  EXPECT_EQ(from_text->name(), "one");
  ASSERT_EQ(from_text->steps_size(), 1);

  auto from_message = ScenarioOfRequest(&*from_text, "");
  ASSERT_TRUE(from_message.ok()) << from_message.status();
  EXPECT_EQ(from_message->name(), "one");

  auto both = ScenarioOfRequest(&*from_text, kText);
  EXPECT_EQ(both.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(both.status().message(), ::testing::HasSubstr("both scenario and scenario_yaml"));

  auto neither = ScenarioOfRequest(nullptr, "");
  EXPECT_EQ(neither.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(neither.status().message(), ::testing::HasSubstr("no scenario"));

  // The text goes through the file reader: its errors name the key and the line.
  auto wrong = ScenarioOfRequest(nullptr, "name: two\nsteps:\n  - {at: 0s, partiton: {}}\n");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.status().message(), ::testing::HasSubstr("partiton"));
  EXPECT_THAT(wrong.status().message(), ::testing::HasSubstr("line 3"));
}

TEST(SignalNumber, NamesWithAndWithoutPrefix) {
  EXPECT_EQ(*SignalNumber("TERM"), SIGTERM);
  EXPECT_EQ(*SignalNumber("SIGTERM"), SIGTERM);
  EXPECT_EQ(*SignalNumber("term"), SIGTERM);
  EXPECT_EQ(*SignalNumber(""), SIGKILL);
  EXPECT_EQ(*SignalNumber("usr2"), SIGUSR2);
  EXPECT_EQ(*SignalNumber("CONT"), SIGCONT);
  EXPECT_EQ(SignalNumber("SEGV").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SignalNumber("SIG").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SignalNumber("9").status().message(),
            "unknown signal \"9\" (known: TERM, KILL, INT, HUP, QUIT, USR1, USR2, STOP, CONT, "
            "with or without SIG)");
}

}  // namespace
}  // namespace nslab::scenario

namespace nslab::scenario {
namespace {

using ::testing::HasSubstr;

TEST(ReadScenarioYaml, ApplyTakesAnInlineTopology) {
  auto scenario = ReadScenarioYaml(R"(
name: s
steps:
  - at: 1s
    for: 2s
    apply:
      topology:
        nodes: {a: {}, b: {kind: router}}
        links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
)");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const auto& topology = scenario->steps(0).action().apply().topology();
  ASSERT_EQ(topology.nodes_size(), 2);
  EXPECT_EQ(topology.nodes(1).kind(), nslab::v1::NODE_KIND_ROUTER);
  ASSERT_EQ(topology.links_size(), 1);
  EXPECT_EQ(topology.links(0).b().addresses(0), "10.0.0.2/24");
  EXPECT_EQ(DescribeAction(scenario->steps(0).action()), "apply a topology of 2 nodes and 1 link");
}

TEST(ReadScenarioYaml, ApplyRefusesAWrongTopologyByItsPath) {
  auto scenario = ReadScenarioYaml(R"(
name: s
steps:
  - at: 0s
    apply: {topology: {nodes: {a: {}}, links: [{a: a:eth0, b: nowhere:eth0}]}}
)");
  ASSERT_FALSE(scenario.ok());
  EXPECT_THAT(std::string(scenario.status().message()), HasSubstr("steps[0].apply.topology"));
  EXPECT_THAT(std::string(scenario.status().message()), HasSubstr("nowhere"));
}

}  // namespace
}  // namespace nslab::scenario
