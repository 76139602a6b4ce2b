#include "daemon/scenario/spec/describe.h"

#include <gtest/gtest.h>

#include "daemon/scenario/spec/yaml_reader.h"

namespace nslab::scenario {
namespace {

// The descriptions of a one-step scenario's step, read from YAML for brevity.
nslab::v1::Step StepOf(const std::string& step) {
  auto scenario = ReadScenarioYaml("name: s\nsteps:\n  - " + step + "\n");
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  return scenario.ok() ? scenario->steps(0) : nslab::v1::Step();
}

std::string Action(const std::string& step) { return DescribeAction(StepOf(step).action()); }

std::string Check(const std::string& step) {
  const nslab::v1::Step read = StepOf(step);
  return DescribeCheck(read.check(), read.for_ms());
}

TEST(DescribeAction, EveryAction) {
  EXPECT_EQ(Action("{at: 0s, partition: {groups: [[client], [server]], mode: drop}}"),
            "partition [client] | [server] (drop)");
  EXPECT_EQ(Action("{at: 0s, partition: {groups: [[a, b], [c]]}}"),
            "partition [a, b] | [c] (drop)");
  EXPECT_EQ(Action("{at: 0s, impair: {link: \"client:eth0\", direction: a-to-b, delay: 40ms, "
                   "loss: 5%}}"),
            "impair client:eth0 a-to-b: delay 40ms, loss 5%");
  EXPECT_EQ(
      Action("{at: 0s, impair: {link: wan, rate: 1mbit, delay: 2ms, jitter: 1ms, duplicate: 1, "
             "reorder: 2, corrupt: 3, limit: 10}}"),
      "impair wan both: delay 2ms, jitter 1ms, duplicate 1%, reorder 2%, corrupt 3%, rate 1mbit, "
      "limit 10");
  EXPECT_EQ(Action("{at: 0s, clear: {link: wan}}"), "clear wan both");
  EXPECT_EQ(Action("{at: 0s, link_down: {link: wan}}"), "link down wan");
  EXPECT_EQ(Action("{at: 0s, link_up: {link: wan, end: a}}"), "link up wan (end a)");
  EXPECT_EQ(Action("{at: 0s, flap: {link: wan, down: 200ms, up: 1.5s, count: 3}}"),
            "flap wan 3 times (down 200ms, up 1500ms)");
  EXPECT_EQ(Action("{at: 0s, heal: {}}"), "heal every partition");
  EXPECT_EQ(Action("{at: 0s, firewall: {node: srv, ruleset: \"table inet t {}\\n\"}}"),
            "set srv's firewall (1 line)");
  EXPECT_EQ(Action("{at: 0s, flush_firewall: {node: srv}}"), "flush srv's firewall");
  EXPECT_EQ(Action("{at: 0s, kill: {node: server, process: nginx, signal: TERM}}"),
            "kill nginx on server (TERM)");
  EXPECT_EQ(Action("{at: 0s, restart: {node: server}}"), "restart server's process (KILL)");
  EXPECT_EQ(Action("{at: 0s, exec: {node: client, argv: [sh, -c, \"echo it's\"]}}"),
            "exec on client: sh -c 'echo it'\\''s'");
  EXPECT_EQ(Action("{at: 0s, ustack_fault: {node: srv, port: 80, mode: reset-after, bytes: 10}}"),
            "ustack fault reset-after on srv:80 after 10 bytes");
  EXPECT_EQ(DescribeAction(nslab::v1::Action()), "no action");
}

TEST(DescribeCheck, EveryProbeAndTiming) {
  EXPECT_EQ(Check("{at: 0s, check: {name: a, from: c, tcp: \"10.0.0.2:8080\", within: 5s}}"),
            "tcp 10.0.0.2:8080 connects within 5s");
  EXPECT_EQ(Check("{at: 0s, check: {name: a, from: c, tcp: \"10.0.0.2:8080\", expect: fail}}"),
            "tcp 10.0.0.2:8080 does not connect");
  EXPECT_EQ(Check("{at: 0s, check: {name: a, from: c, http: \"http://10.0.0.2:8080/\", "
                  "status: 200, every: 100ms, for: 2s}}"),
            "http://10.0.0.2:8080/ answers 200 every 100ms for 2s");
  EXPECT_EQ(Check("{at: 0s, check: {name: a, from: c, http: \"http://x/\"}}"),
            "http://x/ answers 2xx");
  EXPECT_EQ(Check("{at: 0s, check: {name: a, from: c, ping: 10.0.0.2, count: 5, max_loss: "
                  "20%, max_rtt: 50ms}}"),
            "ping 10.0.0.2 answers (5 echoes, loss <= 20%, rtt <= 50ms)");
  EXPECT_EQ(Check("{at: 0s, check: {name: a, from: c, ping: 10.0.0.2, expect: fail}}"),
            "ping 10.0.0.2 does not answer (3 echoes, loss <= 0%)");
  EXPECT_EQ(Check("{at: 0s, check: {name: a, from: c, exec: [\"true\"], exit: 0}}"),
            "`true` exits 0");
  EXPECT_EQ(Check("{at: 0s, check: {name: a, counter: {wire: \"wan:a-to-b:dropped_loss\", "
                  "min: 1}}}"),
            "wire wan:a-to-b:dropped_loss is >= 1");
  EXPECT_EQ(Check("{at: 0s, check: {name: a, from: s, counter: {ustack: tcp.retrans_segs, min: "
                  "1, max: 9, increase: true}}}"),
            "ustack tcp.retrans_segs's increase is >= 1 and <= 9");
}

}  // namespace
}  // namespace nslab::scenario
