// `ready:` of a run: process, as read from YAML and as checked when it arrives as a proto.
#include "daemon/topology/process_ready.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "daemon/topology/yaml_reader.h"

namespace nslab::topology {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<nslab::v1::Topology> Read(const std::string& process) {
  return ReadTopologyYaml("nodes: {s: {}}\nrun:\n  s:\n    - " + process + "\n");
}

TEST(ProcessReadyYaml, ReadsEachConditionAndTheTimeout) {
  auto tcp = Read("{cmd: serve, ready: {tcp: 8080, timeout: 30s}}");
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  const nslab::v1::ProcessReady& ready = tcp->nodes(0).run(0).ready();
  EXPECT_EQ(ready.tcp(), 8080u);
  EXPECT_EQ(ready.timeout_ms(), 30'000u);
  EXPECT_EQ(DescribeProcessReady(ready), "tcp port 8080 listening");
  EXPECT_EQ(ProcessReadyTimeoutMs(ready), 30'000u);

  auto udp = Read("{argv: [dnsmasq, -k], ready: {udp: 53}}");
  ASSERT_TRUE(udp.ok()) << udp.status();
  EXPECT_EQ(udp->nodes(0).run(0).ready().udp(), 53u);
  EXPECT_EQ(ProcessReadyTimeoutMs(udp->nodes(0).run(0).ready()), kDefaultProcessReadyTimeoutMs);

  auto line = Read("{cmd: serve, ready: {line: \"Serving HTTP\"}}");
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(DescribeProcessReady(line->nodes(0).run(0).ready()), "a line with \"Serving HTTP\"");
}

TEST(ProcessReadyYaml, RefusesWhatCannotBeWaitedFor) {
  const struct {
    std::string process;
    std::string message;
  } cases[] = {
      {"{cmd: x, ready: {}}", "run.s[0].ready: give exactly one of tcp: PORT, udp: PORT or line"},
      {"{cmd: x, ready: {tcp: 1, udp: 2}}", "give exactly one of"},
      {"{cmd: x, ready: {tcp: 0}}", "run.s[0].ready.tcp: a port from 1 to 65535"},
      {"{cmd: x, ready: {udp: 70000}}", "run.s[0].ready.udp: expected a whole number"},
      {"{cmd: x, ready: {line: \"\"}}", "run.s[0].ready.line: must not be empty"},
      {"{cmd: x, ready: {tcp: 80, timeout: 11m}}", "run.s[0].ready.timeout: from 1ms to 10m"},
      {"{cmd: x, ready: {tcp: 80, wait: 1s}}", "unknown key \"wait\""},
      {"{cmd: x, ready: 8080}", "run.s[0].ready"},
  };
  for (const auto& c : cases) {
    auto read = Read(c.process);
    ASSERT_FALSE(read.ok()) << c.process;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument) << c.process;
    EXPECT_THAT(read.status().message(), HasSubstr(c.message)) << c.process;
  }
}

TEST(ProcessReadyProto, RefusesWhatTheReaderWould) {
  nslab::v1::ProcessReady ready;
  EXPECT_FALSE(CheckProcessReady(ready, "run.s[0].ready").has_value());
  ready.set_timeout_ms(5);
  ASSERT_TRUE(CheckProcessReady(ready, "run.s[0].ready").has_value());
  EXPECT_THAT(CheckProcessReady(ready, "run.s[0].ready")->message, HasSubstr("needs a condition"));
  ready.set_tcp(70000);
  EXPECT_EQ(CheckProcessReady(ready, "run.s[0].ready")->path, "run.s[0].ready.tcp");
  ready.set_line("two\nlines");
  EXPECT_EQ(CheckProcessReady(ready, "run.s[0].ready")->path, "run.s[0].ready.line");
  ready.set_udp(53);
  ready.set_timeout_ms(kMaxProcessReadyTimeoutMs + 1);
  EXPECT_EQ(CheckProcessReady(ready, "run.s[0].ready")->path, "run.s[0].ready.timeout");
}

}  // namespace
}  // namespace nslab::topology
