// ReadScenarioYaml on files that are wrong: each error names the key path and its line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "daemon/scenario/spec/yaml_reader.h"

namespace nslab::scenario {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The error of a scenario whose steps are `steps` (line 3 is the first step).
std::string ErrorOf(const std::string& steps) {
  auto scenario = ReadScenarioYaml("name: s\nsteps:\n" + steps);
  EXPECT_FALSE(scenario.ok()) << steps;
  EXPECT_EQ(scenario.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(scenario.status().message());
}

TEST(ScenarioYamlErrors, TheTopLevel) {
  EXPECT_EQ(ReadScenarioYaml("").status().message(), "the scenario is empty");
  EXPECT_THAT(std::string(ReadScenarioYaml("name: [").status().message()),
              StartsWith("not valid YAML"));
  EXPECT_EQ(ReadScenarioYaml("name: s\nsteeps: []\n").status().message(),
            "steeps: unknown key \"steeps\" (did you mean steps?); known: name, seed, steps "
            "(line 2)");
  EXPECT_EQ(ReadScenarioYaml("name: s\n").status().message(),
            "steps: a scenario needs at least one step (line 1)");
  EXPECT_EQ(ReadScenarioYaml("name: s\nsteps: []\n").status().message(),
            "steps: a scenario needs at least one step (line 2)");
  EXPECT_EQ(ReadScenarioYaml("name: s\nseed: -1\nsteps: []\n").status().message(),
            "seed: expected a whole number from 0 to 18446744073709551615 (line 2)");
  EXPECT_EQ(ReadScenarioYaml("steps: [{at: 0s, heal: {}}]\n").status().message(),
            "name: missing (the scenario's name, e.g. name: web-survives-partition)");
  EXPECT_EQ(ReadScenarioYaml("name: Web\nsteps: [{at: 0s, heal: {}}]\n").status().message(),
            "name: scenario name \"Web\" must start with a lowercase letter (line 1)");
  EXPECT_EQ(ReadScenarioYaml(std::string(kMaxScenarioBytes + 1, ' ')).status().message(),
            "the scenario is larger than 1 MiB");
  EXPECT_THAT(std::string(ReadScenarioYaml(std::string(100, '[')).status().message()),
              HasSubstr("nested more than"));
}

TEST(ScenarioYamlErrors, StepShape) {
  EXPECT_EQ(
      ErrorOf("  - {at: 0s, heal: {}}\n  - {at: 1s, partiton: {groups: [[a], [b]]}}\n"),
      "steps[1]: unknown key \"partiton\" (did you mean partition?); an action is one of "
      "impair, clear, link_down, link_up, flap, partition, heal, firewall, flush_firewall, "
      "kill, restart, exec, ustack_fault, apply; a step also has check, parallel, serial, at, "
      "for, jitter (line 4)");
  EXPECT_EQ(ErrorOf("  - {at: 0s}\n"),
            "steps[0]: a step needs one action, check, parallel or serial (e.g. {at: 1s, "
            "link_down: {link: wan}}) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, heal: {}, link_up: {link: wan}}\n"),
            "steps[0].link_up: a step has one action or check; this one has both heal and "
            "link_up (write two steps) (line 3)");
  EXPECT_EQ(ErrorOf("  - {heal: {}}\n"),
            "steps[0].at: missing (when the step starts, from the scenario's or group's start, "
            "e.g. at: 1s) (line 3)");
  EXPECT_EQ(ErrorOf("  - heal\n"),
            "steps[0]: expected a map (a step: {at: 1s, <action or check>: ...}) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: soon, heal: {}}\n"),
            "steps[0].at: \"soon\" is not a duration (e.g. 40ms, 500us, 2s) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, heal: {}}\n  - {at: 10us, heal: {}}\n"),
            "steps[1].at: \"10us\" is not a whole number of milliseconds (line 4)");
  EXPECT_EQ(ErrorOf("  - {at: 25h, heal: {}}\n"),
            "steps[0].at: 90000s is longer than 24h (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, jitter: 2d, heal: {}}\n"),
            "steps[0].jitter: \"2d\" has an unknown unit \"d\" for a duration (e.g. 40ms, 500us, "
            "2s) (line 3)");
}

TEST(ScenarioYamlErrors, ForOnlyWhereItMeansSomething) {
  EXPECT_EQ(
      ErrorOf("  - {at: 0s, kill: {node: srv}, for: 1s}\n"),
      "steps[0].for: kill cannot be undone, so it takes no for: (only impair, clear, "
      "link_down, link_up, partition, firewall, flush_firewall, ustack_fault, apply do) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"x:1\"}, for: 1s}\n"),
            "steps[0].for: only a continuous check (every:) takes for: (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"x:1\", every: 1s}}\n"),
            "steps[0].check.every: needs for: (how long the check keeps running, e.g. for: 2s) "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - at: 0s\n    for: 1s\n    check: {name: a, from: c, tcp: \"x:1\", "
                    "every: 1s, for: 2s}\n"),
            "steps[0].check.for: for: is given twice, in the step and in its check (keep one) "
            "(line 5)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"x:1\", every: 1s, within: "
                    "1s}, for: 1s}\n"),
            "steps[0].check.every: give within: (retry until it holds) or every: (keep "
            "holding), not both (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, parallel: [{at: 0s, heal: {}}], for: 1s}\n"),
            "steps[0].for: a group takes no for: (give it to its members) (line 3)");
}

TEST(ScenarioYamlErrors, Groups) {
  EXPECT_EQ(ErrorOf("  - at: 0s\n    parallel:\n      - {at: 0s, heal: {}}\n"
                    "      - {at: 0s, heal: {}, serial: []}\n"),
            "steps[0].parallel[1].serial: a step has one action or check; this one has both "
            "heal and serial (write two steps) (line 6)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, serial: []}\n"),
            "steps[0].serial: an empty group (give it at least one step) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, parallel: {at: 0s}}\n"),
            "steps[0].parallel: expected a list (line 3)");
  std::string deep = "{at: 0s, heal: {}}";
  for (int i = 0; i < 8; ++i) {
    deep = "{at: 0s, parallel: [" + deep + "]}";
  }
  EXPECT_THAT(ErrorOf("  - " + deep + "\n"),
              HasSubstr("parallel[0].parallel[0]: groups nest at most 8 deep (line 3)"));
}

TEST(ScenarioYamlErrors, Actions) {
  EXPECT_EQ(ErrorOf("  - {at: 0s, heal: {}}\n  - {at: 1s, heal: {}}\n"
                    "  - {at: 2s, partition: {groups: [[a], [b]], mode: dorp}}\n"),
            "steps[2].partition.mode: \"dorp\" is not one of drop, reject (line 5)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, partition: {groups: [[a]]}}\n"),
            "steps[0].partition.groups: a partition needs at least two groups, e.g. [[a], [b]] "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, partition: {groups: [[a], []]}}\n"),
            "steps[0].partition.groups[1]: an empty group (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, partition: {groups: [[a], [b, a]]}}\n"),
            "steps[0].partition.groups[1][1]: node \"a\" is in two groups (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, partition: {mode: drop}}\n"),
            "steps[0].partition.groups: missing (the groups of nodes, e.g. [[client], [server]]) "
            "(line 3)");
  EXPECT_EQ(
      ErrorOf("  - {at: 0s, impair: {link: wan, dleay: 1ms}}\n"),
      "steps[0].impair.dleay: unknown key \"dleay\" (did you mean delay?); known: link, "
      "direction, match, delay, jitter, delay_correlation, distribution, loss, loss_correlation, "
      "gilbert_elliott, duplicate, reorder, reorder_gap, corrupt, rate, burst, limit, "
      "trace_file, trace (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, impair: {link: wan, loss: lots}}\n"),
            "steps[0].impair.loss: \"lots\" is not a percentage (e.g. 1%, 0.5%) (line 3)");
  EXPECT_THAT(ErrorOf("  - {at: 0s, impair: {link: wan, loss: 120%}}\n"),
              StartsWith("steps[0].impair.loss: "));
  EXPECT_EQ(ErrorOf("  - {at: 0s, impair: {link: wan}}\n"),
            "steps[0].impair: sets no impairment (give delay, loss, rate, ...; clear: removes "
            "one) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, impair: {link: wan, direction: up, delay: 1ms}}\n"),
            "steps[0].impair.direction: \"up\" is not one of both, a-to-b, b-to-a (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, impair: {delay: 1ms}}\n"),
            "steps[0].impair.link: missing (node:interface of either end, or the link's name) "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, link_down: {link: wan, end: c}}\n"),
            "steps[0].link_down.end: \"c\" is not one of a, b, both (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, flap: {link: wan, down: 1s, up: 1s}}\n"),
            "steps[0].flap.count: must be from 1 to 100000 (how many times to flap) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, flap: {link: wan, up: 1s, count: 2}}\n"),
            "steps[0].flap.down: missing (how long the link stays down each time, e.g. 200ms) "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, heal: {groups: []}}\n"),
            "steps[0].heal.groups: unknown key \"groups\" (this takes no keys: write {}) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, firewall: {node: srv}}\n"),
            "steps[0].firewall.ruleset: missing (the text of an nft -f file) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, flush_firewall: {}}\n"),
            "steps[0].flush_firewall.node: missing (the node's name) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, kill: {node: srv, signal: SEGV}}\n"),
            "steps[0].kill.signal: unknown signal \"SEGV\" (known: TERM, KILL, INT, HUP, QUIT, "
            "USR1, USR2, STOP, CONT, with or without SIG) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, restart: {node: Srv}}\n"),
            "steps[0].restart.node: node name \"Srv\" must start with a lowercase letter "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, exec: {node: c}}\n"),
            "steps[0].exec.argv: missing (argv: [program, args...] or cmd: \"shell text\") "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, exec: {node: c, cmd: x, argv: [y]}}\n"),
            "steps[0].exec: give either cmd or argv, not both (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, exec: {node: c, argv: []}}\n"),
            "steps[0].exec.argv: missing (argv: [program, args...] or cmd: \"shell text\") "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, ustack_fault: {node: s, port: 80, mode: explode}}\n"),
            "steps[0].ustack_fault.mode: \"explode\" is not one of refuse, blackhole-syn, "
            "never-accept, close-wait, ignore-fin, zero-window, slow-read, reset-after, clear "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, ustack_fault: {node: s, port: 80, mode: reset-after}}\n"),
            "steps[0].ustack_fault.bytes: reset-after needs bytes: (how many bytes before the "
            "reset) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, ustack_fault: {node: s, port: 80, mode: slow-read}}\n"),
            "steps[0].ustack_fault.rate: slow-read needs rate: (bytes per second it reads) "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, ustack_fault: {node: s, port: 0, mode: refuse}}\n"),
            "steps[0].ustack_fault.port: must be from 1 to 65535 (the listening port) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, ustack_fault: {node: s, port: 80, mode: refuse, rate: 1}}\n"),
            "steps[0].ustack_fault.rate: only slow-read takes rate: (line 3)");
}

TEST(ScenarioYamlErrors, Checks) {
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {from: c, tcp: \"x:1\"}}\n"),
            "steps[0].check.name: missing (the check's name: its JUnit testcase) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"x:1\"}}\n"
                    "  - at: 1s\n    parallel:\n"
                    "      - {at: 0s, check: {name: a, from: c, tcp: \"x:1\"}}\n"),
            "steps[1].parallel[0].check.name: \"a\" is already the name of steps[0].check "
            "(line 6)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c}}\n"),
            "steps[0].check: a check needs one probe: tcp, http, ping, exec or counter (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"x:1\", ping: x}}\n"),
            "steps[0].check.ping: a check has one probe; this one has both tcp and ping (write "
            "two checks) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, tcp: \"x:1\"}}\n"),
            "steps[0].check.from: missing (the node's name) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"10.0.0.2\"}}\n"),
            "steps[0].check.tcp: \"10.0.0.2\" is not address:port (e.g. 10.0.0.2:8080) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"10.0.0.2:http\"}}\n"),
            "steps[0].check.tcp: \"10.0.0.2:http\" needs a port from 1 to 65535 (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"::1:80\"}}\n"),
            "steps[0].check.tcp: \"::1:80\": write an IPv6 address in brackets, e.g. "
            "[2001:db8::2]:80 (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, http: \"https://x/\"}}\n"),
            "steps[0].check.http: \"https://x/\" must start with http:// (e.g. "
            "http://10.0.0.2/) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, http: \"http:///x\"}}\n"),
            "steps[0].check.http: \"\" is not an address (e.g. http://10.0.0.2:8080/) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, http: \"http://x/\", status: 99}}\n"),
            "steps[0].check.status: must be an HTTP status from 100 to 599 (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"x:1\", status: 200}}\n"),
            "steps[0].check.status: only an http check takes status: (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"x:1\", max_rtt: 5ms}}\n"),
            "steps[0].check.max_rtt: only a ping check takes count:, max_loss:, max_rtt: "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, ping: x, max_loss: 101%}}\n"),
            "steps[0].check.max_loss: \"101%\" is above 100% (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, ping: x, count: 1001}}\n"),
            "steps[0].check.count: must be at most 1000 echoes an attempt (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, ping: x, expect: maybe}}\n"),
            "steps[0].check.expect: \"maybe\" is not one of ok, fail (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, ping: x, exit: 0}}\n"),
            "steps[0].check.exit: only an exec check takes exit: (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, exec: \"ls\"}}\n"),
            "steps[0].check.exec: write exec: [program, args...] or exec: {cmd: \"shell "
            "text\"} (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, exec: [ls], exit: 256}}\n"),
            "steps[0].check.exit: expected a whole number from 0 to 255 (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: c, tcp: \"x:1\", timeout: 1}}\n"
                    "  - {at: 0s, check: {name: b, from: c, tcp: \"x:1\", tiemout: 1s}}\n"),
            "steps[1].check.tiemout: unknown key \"tiemout\" (did you mean timeout?); known: "
            "name, from, tcp, http, ping, exec, counter, timeout, expect, within, every, for, "
            "status, count, max_loss, max_rtt, exit (line 4)");
}

TEST(ScenarioYamlErrors, CounterChecks) {
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, counter: {min: 1}}}\n"),
            "steps[0].check.counter: a counter needs one source: wire, ustack or nft (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, counter: {wire: \"wan:a-to-b:x\"}}}\n"),
            "steps[0].check.counter: a counter check needs min:, max: or both (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, counter: {wire: \"wan:x\", min: 1}}}\n"),
            "steps[0].check.counter.wire: \"wan:x\" is not link:direction:counter (e.g. "
            "client:eth0:a-to-b:dropped_loss or wan:b-to-a:delivered) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, counter: {wire: \"w:a-to-b:x\", min: 2, "
                    "max: 1}}}\n"),
            "steps[0].check.counter.min: min 2 is above max 1 (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, counter: {ustack: tcp.x, max: 1}}}\n"),
            "steps[0].check.from: missing (the node whose ustack counter it reads) (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: g, counter: {nft: \"x\", max: 1}}}\n"),
            "steps[0].check.counter.nft: \"x\" is not table/chain/handle or table/chain/comment "
            "(line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: g, counter: {nft: a/b/c, ustack: "
                    "x, max: 1}}}\n"),
            "steps[0].check.counter.nft: a counter has one source; this one has both ustack "
            "and nft (line 3)");
  EXPECT_EQ(ErrorOf("  - {at: 0s, check: {name: a, from: g, counter: {nft: a/b/c, max: 1, "
                    "increase: maybe}}}\n"),
            "steps[0].check.counter.increase: expected true or false (line 3)");
}

}  // namespace
}  // namespace nslab::scenario
