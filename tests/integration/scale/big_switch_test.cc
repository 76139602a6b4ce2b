// A switch with many ports in a lab without IPv6 has IPv6 off on its ports (each port coming
// up would otherwise add a route and walk all the others: quadratic in the ports), while a
// small node only loses its link-local addresses; a lab with IPv6 keeps it everywhere. Either
// way the hosts reach each other through the switch. The hosts of a switch with many ports get
// namespace ids there in decreasing order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// One switch and `hosts` hosts on it, IPv4 only unless h1 also gets an IPv6 address.
std::string StarYaml(int hosts, bool ipv6) {
  std::string yaml = "nodes:\n  sw: {kind: switch}\n";
  for (int i = 1; i <= hosts; ++i) {
    absl::StrAppend(&yaml, "  h", i, ": {}\n");
  }
  absl::StrAppend(&yaml, "links:\n");
  for (int i = 1; i <= hosts; ++i) {
    absl::StrAppend(&yaml, "  - {a: h", i, ":eth0, b: sw:p", i, ", a_addr: [10.78.0.", i, "/24",
                    ipv6 && i == 1 ? ", 'fd00:78::1/64'" : "", "]}\n");
  }
  return yaml;
}

class BigSwitchTest : public DaemonSuite<::testing::Test> {
 protected:
  std::string Read(const std::string& lab, const std::string& node, const std::string& path) {
    auto result = daemon_->Exec(lab, node, {"cat", path});
    EXPECT_EQ(result.code, 0) << path << ": " << result.err << result.status.error_message();
    return result.out;
  }
  std::string Ipv6Addresses(const std::string& lab, const std::string& node,
                            const std::string& device) {
    auto result = daemon_->Exec(lab, node, {"ip", "-6", "addr", "show", "dev", device});
    EXPECT_EQ(result.code, 0) << result.err << result.status.error_message();
    return result.out;
  }
};

TEST_F(BigSwitchTest, WithoutIpv6TheSwitchPortsHaveItOffAndTheHostsNoLinkLocal) {
  const std::string name = UniqueLabName("bigsw");
  LabGuard guard(daemon_, name);
  auto status = daemon_->CreateFromYaml(StarYaml(40, false), name);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Read(name, "sw", "/proc/sys/net/ipv6/conf/p1/disable_ipv6"), "1\n");
  EXPECT_EQ(Read(name, "sw", "/proc/sys/net/ipv6/conf/p40/disable_ipv6"), "1\n");
  EXPECT_THAT(Ipv6Addresses(name, "sw", "lo"), HasSubstr("::1/128"));
  EXPECT_EQ(Read(name, "h1", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6"), "0\n");
  EXPECT_EQ(Read(name, "h1", "/proc/sys/net/ipv6/conf/eth0/addr_gen_mode"), "1\n");  // none
  EXPECT_THAT(Ipv6Addresses(name, "h1", "eth0"), Not(HasSubstr("fe80")));
  auto ping = daemon_->Exec(name, "h40", {"ping", "-c1", "-W2", "10.78.0.1"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err << ping.status.error_message();
  EXPECT_TRUE(daemon_->Delete(name).ok());
}

// A small switch's port comes up second, with its carrier: addr_gen_mode none must already
// hold then, or the port gets a link-local address at once.
TEST_F(BigSwitchTest, ASmallSwitchsPortsComeUpWithoutLinkLocal) {
  const std::string name = UniqueLabName("smallsw");
  LabGuard guard(daemon_, name);
  auto status = daemon_->CreateFromYaml(StarYaml(3, false), name);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Read(name, "sw", "/proc/sys/net/ipv6/conf/p1/disable_ipv6"), "0\n");
  EXPECT_EQ(Read(name, "sw", "/proc/sys/net/ipv6/conf/p1/addr_gen_mode"), "1\n");  // none
  EXPECT_THAT(Ipv6Addresses(name, "sw", "p1"), Not(HasSubstr("fe80")));
  EXPECT_THAT(Ipv6Addresses(name, "h1", "eth0"), Not(HasSubstr("fe80")));
  auto ping = daemon_->Exec(name, "h3", {"ping", "-c1", "-W2", "10.78.0.1"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err << ping.status.error_message();
  EXPECT_TRUE(daemon_->Delete(name).ok());
}

TEST_F(BigSwitchTest, WithIpv6EveryInterfaceKeepsIt) {
  const std::string name = UniqueLabName("bigsw6");
  LabGuard guard(daemon_, name);
  auto status = daemon_->CreateFromYaml(StarYaml(40, true), name);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Read(name, "sw", "/proc/sys/net/ipv6/conf/p1/disable_ipv6"), "0\n");
  EXPECT_THAT(Ipv6Addresses(name, "h2", "eth0"), HasSubstr("fe80"));
  auto ping = daemon_->Exec(name, "h40", {"ping", "-c1", "-W2", "10.78.0.1"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err << ping.status.error_message();
  EXPECT_TRUE(daemon_->Delete(name).ok());
}

// Each host of a switch with many ports gets an id in the switch's namespace below every
// earlier host's, so the kernel's scan for the newest port's peer stops at its first entry.
TEST_F(BigSwitchTest, APortsPeerHasALowerNamespaceIdThanTheEarlierPortsPeers) {
  const std::string name = UniqueLabName("bigswid");
  LabGuard guard(daemon_, name);
  auto status = daemon_->CreateFromYaml(StarYaml(70, false), name);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto ids = daemon_->Exec(name, "sw", {"ip", "netns", "list-id"});
  ASSERT_EQ(ids.code, 0) << ids.err << ids.status.error_message();
  // `ip netns list-id` names each peer with an id, as "nsid 70 (iproute2 netns name: NS)".
  auto line = [&](int id, const std::string& host) {
    return absl::StrCat("nsid ", id, " (iproute2 netns name: ", name, "-", host, ")");
  };
  EXPECT_THAT(ids.out, HasSubstr(line(70, "h1")));
  EXPECT_THAT(ids.out, HasSubstr(line(69, "h2")));
  EXPECT_THAT(ids.out, HasSubstr(line(1, "h70")));
  auto ping = daemon_->Exec(name, "h70", {"ping", "-c1", "-W2", "10.78.0.1"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err << ping.status.error_message();
  EXPECT_TRUE(daemon_->Delete(name).ok());
}

}  // namespace
}  // namespace nslab::testing
