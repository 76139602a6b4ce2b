// Chaos against real traffic: firewalls with counters, link state, partitions and heal.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "nslab/v1/chaos.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/link_watch.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

// A client and a server with a TCP listener on 10.0.0.2:8080.
constexpr char kTwoHosts[] = R"(
nodes: {client: {}, server: {}}
links: [{a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
run:
  server: ["exec python3 -m http.server 8080 --bind 10.0.0.2"]
)";

// Prints "connected", "ConnectionRefusedError" or "TimeoutError".
const std::vector<std::string> kConnect = {
    "python3", "-c",
    "import socket\ns=socket.socket(); s.settimeout(1.5)\n"
    "try: s.connect(('10.0.0.2', 8080)); print('connected')\n"
    "except OSError as e: print(type(e).__name__)"};

class ChaosTest : public DaemonSuite<> {
 protected:
  void SetUp() override {
    name_ = UniqueLabName("chaos");
    guard_ = std::make_unique<LabGuard>(daemon_, name_);
    nslab::v1::CreateLabRequest request;
    request.set_topology_yaml(kTwoHosts);
    request.set_name(name_);
    auto* wait = request.add_wait_for();
    wait->set_node("server");
    wait->set_protocol("tcp");
    wait->set_port(8080);
    nslab::v1::CreateLabResponse response;
    grpc::ClientContext context;
    auto status = daemon_->labs().CreateLab(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    chaos_ = nslab::v1::ChaosService::NewStub(daemon_->channel());
  }
  std::string Connect() {
    auto result = daemon_->Exec(name_, "client", kConnect);
    return result.out;
  }
  grpc::Status Partition(nslab::v1::PartitionMode mode) {
    nslab::v1::PartitionRequest request;
    request.set_lab(name_);
    request.set_mode(mode);
    request.add_groups()->add_nodes("client");
    request.add_groups()->add_nodes("server");
    nslab::v1::PartitionResponse response;
    grpc::ClientContext context;
    return chaos_->Partition(&context, request, &response);
  }
  grpc::Status Heal() {
    nslab::v1::HealRequest request;
    request.set_lab(name_);
    nslab::v1::HealResponse response;
    grpc::ClientContext context;
    return chaos_->Heal(&context, request, &response);
  }
  grpc::Status SetFirewall(const std::string& ruleset, nslab::v1::Firewall* out) {
    nslab::v1::SetFirewallRequest request;
    request.set_lab(name_);
    request.set_node("server");
    request.set_ruleset(ruleset);
    nslab::v1::SetFirewallResponse response;
    grpc::ClientContext context;
    grpc::Status status = chaos_->SetFirewall(&context, request, &response);
    *out = response.firewall();
    return status;
  }
  nslab::v1::Firewall GetFirewall() {
    nslab::v1::GetFirewallRequest request;
    request.set_lab(name_);
    request.set_node("server");
    nslab::v1::GetFirewallResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(chaos_->GetFirewall(&context, request, &response).ok());
    return response.firewall();
  }

  std::string name_;
  std::unique_ptr<LabGuard> guard_;
  std::unique_ptr<nslab::v1::ChaosService::Stub> chaos_;
};

TEST_F(ChaosTest, PartitionDropTimesOutRejectIsRefusedHealRestores) {
  EXPECT_EQ(Connect(), "connected\n");
  ASSERT_TRUE(Partition(nslab::v1::PARTITION_MODE_DROP).ok());
  EXPECT_EQ(Connect(), "TimeoutError\n");
  ASSERT_TRUE(Partition(nslab::v1::PARTITION_MODE_REJECT).ok());  // replaces the first
  EXPECT_EQ(Connect(), "ConnectionRefusedError\n");
  ASSERT_TRUE(Heal().ok());
  EXPECT_EQ(Connect(), "connected\n");
}

TEST_F(ChaosTest, PartitionLeavesTheUsersRulesAlone) {
  nslab::v1::Firewall firewall;
  auto set = SetFirewall(R"(table inet mine {
  chain c {
    type filter hook input priority 0; policy accept;
    tcp dport 9 counter drop
  }
})",
                         &firewall);
  ASSERT_TRUE(set.ok()) << set.error_message();
  ASSERT_TRUE(Partition(nslab::v1::PARTITION_MODE_DROP).ok());
  ASSERT_TRUE(Heal().ok());
  auto after = GetFirewall();
  ASSERT_EQ(after.rules_size(), 1);
  EXPECT_EQ(after.rules(0).table(), "mine");
  EXPECT_THAT(after.ruleset(), ::testing::Not(HasSubstr("nslab_partition")));
}

TEST_F(ChaosTest, FirewallCountersRiseAndBadSyntaxKeepsTheOldRuleset) {
  nslab::v1::Firewall firewall;
  ASSERT_TRUE(SetFirewall(R"(table inet filter {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr 10.0.0.1 tcp dport 8080 counter drop
  }
})",
                          &firewall)
                  .ok());
  ASSERT_EQ(firewall.rules_size(), 1);
  EXPECT_EQ(firewall.rules(0).packets(), 0u);
  EXPECT_EQ(Connect(), "TimeoutError\n");
  auto counted = GetFirewall();
  ASSERT_EQ(counted.rules_size(), 1);
  EXPECT_GE(counted.rules(0).packets(), 1u);  // the SYN and its retransmissions
  EXPECT_EQ(counted.rules(0).text(), "ip saddr 10.0.0.1 tcp dport 8080 drop");

  auto bad =
      SetFirewall("table inet filter {\n  chain input {\n    tcp dport banana drop\n", &firewall);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("previous ruleset stays"));
  EXPECT_EQ(GetFirewall().rules_size(), 1);  // still in force
  EXPECT_EQ(Connect(), "TimeoutError\n");

  nslab::v1::FlushFirewallRequest flush;
  flush.set_lab(name_);
  flush.set_node("server");
  nslab::v1::FlushFirewallResponse flushed;
  grpc::ClientContext context;
  ASSERT_TRUE(chaos_->FlushFirewall(&context, flush, &flushed).ok());
  EXPECT_EQ(flushed.firewall().rules_size(), 0);
  EXPECT_EQ(Connect(), "connected\n");
}

TEST_F(ChaosTest, LinkDownAndUp) {
  nslab::v1::SetLinkStateRequest request;
  request.set_lab(name_);
  request.set_link("client:eth0");
  request.set_up(false);
  nslab::v1::SetLinkStateResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(chaos_->SetLinkState(&context, request, &response).ok());
  }
  EXPECT_THAT(response.changed(), ::testing::ElementsAre("client:eth0", "server:eth0"));
  EXPECT_NE(daemon_->Exec(name_, "client", {"ping", "-c1", "-W1", "10.0.0.2"}).code, 0);
  request.set_up(true);
  {
    grpc::ClientContext context;
    ASSERT_TRUE(chaos_->SetLinkState(&context, request, &response).ok());
  }
  EXPECT_EQ(daemon_->Exec(name_, "client", {"ping", "-c1", "-W2", "10.0.0.2"}).code, 0);

  request.set_link("client:eth9");
  grpc::ClientContext context;
  auto missing = chaos_->SetLinkState(&context, request, &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ChaosTest, LinkUpPutsBackTheRoutesAndAddressesTheKernelFlushed) {
  // The kernel deletes a route through an interface that goes down (and IPv6 addresses with
  // it); `link up` must leave the node as the topology built it.
  const std::string lab = UniqueLabName("chaosrt");
  LabGuard guard(daemon_, lab);
  auto created = daemon_->CreateFromYaml(R"(
nodes: {client: {}, server: {}}
links:
  - {a: client:eth0, b: server:eth0, a_addr: [10.0.0.1/24, "fd00:7::1/64"],
     b_addr: [10.0.0.2/24, "fd00:7::2/64"]}
routes:
  client: [{to: 10.99.0.0/24, via: 10.0.0.2}, {to: default, via: 10.0.0.2}]
)",
                                         lab);
  ASSERT_TRUE(created.ok()) << created.error_message();
  const std::vector<std::string> show = {"sh", "-c",
                                         "ip -4 route show; ip -6 addr show dev eth0 scope global"};
  const std::string before = daemon_->Exec(lab, "client", show).out;
  ASSERT_THAT(before, HasSubstr("10.99.0.0/24 via 10.0.0.2"));
  ASSERT_THAT(before, HasSubstr("fd00:7::1/64"));

  nslab::v1::SetLinkStateRequest request;
  request.set_lab(lab);
  request.set_link("client:eth0");
  request.set_end(nslab::v1::LINK_END_A);
  nslab::v1::SetLinkStateResponse response;
  for (const bool up : {false, true}) {
    request.set_up(up);
    grpc::ClientContext context;
    auto status = chaos_->SetLinkState(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (!up) {
      EXPECT_THAT(daemon_->Exec(lab, "client", show).out,
                  ::testing::Not(HasSubstr("10.99.0.0/24 via 10.0.0.2")))
          << "the kernel flushes the route while its interface is down";
    }
  }
  const std::string after = daemon_->Exec(lab, "client", show).out;
  EXPECT_THAT(after, HasSubstr("10.99.0.0/24 via 10.0.0.2"));
  EXPECT_THAT(after, HasSubstr("default via 10.0.0.2"));
  EXPECT_THAT(after, HasSubstr("fd00:7::1/64"));
  EXPECT_EQ(daemon_->Exec(lab, "client", {"ip", "route", "get", "10.99.0.7"}).code, 0);
}

TEST_F(ChaosTest, FlapEndsUp) {
  // The kernel's own announcements of server:eth0's state, subscribed before the flap starts.
  LinkWatch watch(name_ + "-server");
  ASSERT_EQ(watch.error(), "");
  nslab::v1::FlapLinkRequest request;
  request.set_lab(name_);
  request.set_link("server:eth0");
  request.set_down_ms(200);
  request.set_up_ms(100);
  request.set_count(2);
  nslab::v1::FlapLinkResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(chaos_->FlapLink(&context, request, &response).ok());
  // Two cycles: down, up, down, up, in that order. A flap takes 0.5 s; 10 s means it is stuck.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto next = [&] {
    return watch.Next("eth0", std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now()));
  };
  std::vector<std::string> seen;
  bool up = true;
  std::optional<LinkWatch::Change> change;
  while (seen.size() < 4 && (change = next())) {
    if (change->admin_up != up) {
      up = change->admin_up;
      seen.push_back(up ? "up" : "down");
    }
  }
  ASSERT_THAT(seen, ::testing::ElementsAre("down", "up", "down", "up"))
      << "server:eth0's transitions within 10 s of the flap; " << watch.error();
  // Ends up: carrier back (both ends up) and traffic passes.
  while (!change->lower_up && (change = next())) {
    ASSERT_TRUE(change->admin_up) << "server:eth0 went down after the flap's last cycle";
  }
  ASSERT_TRUE(change.has_value()) << "server:eth0 has no carrier 10 s after the flap";
  EXPECT_EQ(daemon_->Exec(name_, "client", {"ping", "-c1", "-W2", "10.0.0.2"}).code, 0);
}

TEST_F(ChaosTest, ImpairAtRuntimeAndARefusedChangeChangesNothing) {
  nslab::v1::SetImpairmentRequest request;
  request.set_lab(name_);
  request.set_link("client:eth0");
  request.set_direction(nslab::v1::DIRECTION_A_TO_B);
  request.mutable_impairment()->set_rate_bps(10'000'000);
  request.mutable_impairment()->set_loss(5);
  nslab::v1::SetImpairmentResponse response;
  {
    grpc::ClientContext context;
    auto status = chaos_->SetImpairment(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(response.links_size(), 1);
  EXPECT_EQ(response.links(0).a_to_b().rate_bps(), 10'000'000u);
  auto qdisc = daemon_->Exec(name_, "client", {"tc", "qdisc", "show", "dev", "eth0"});
  EXPECT_THAT(qdisc.out, HasSubstr("tbf 4e53: root"));
  auto ingress = daemon_->Exec(name_, "server", {"nft", "list", "tables"});
  EXPECT_THAT(ingress.out, HasSubstr("nslab_impair_eth0"));

  // This kernel has no sch_netem: a delay is refused and the rate stays.
  nslab::v1::SetImpairmentRequest delay = request;
  delay.clear_impairment();
  delay.mutable_impairment()->set_delay_us(50'000);
  {
    grpc::ClientContext context;
    auto status = chaos_->SetImpairment(&context, delay, &response);
    if (status.ok()) {
      GTEST_SKIP() << "this kernel has sch_netem";
    }
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("use mode: wire"));
  }
  qdisc = daemon_->Exec(name_, "client", {"tc", "qdisc", "show", "dev", "eth0"});
  EXPECT_THAT(qdisc.out, HasSubstr("tbf 4e53: root"));

  request.clear_impairment();  // clear
  {
    grpc::ClientContext context;
    ASSERT_TRUE(chaos_->SetImpairment(&context, request, &response).ok());
  }
  EXPECT_EQ(response.links_size(), 0);
  qdisc = daemon_->Exec(name_, "client", {"tc", "qdisc", "show", "dev", "eth0"});
  EXPECT_THAT(qdisc.out, ::testing::Not(HasSubstr("tbf")));
  ingress = daemon_->Exec(name_, "server", {"nft", "list", "tables"});
  EXPECT_THAT(ingress.out, ::testing::Not(HasSubstr("nslab_impair")));
}

TEST_F(ChaosTest, PartitionRejectsBadGroups) {
  nslab::v1::PartitionRequest request;
  request.set_lab(name_);
  request.add_groups()->add_nodes("client");
  nslab::v1::PartitionResponse response;
  {
    grpc::ClientContext context;
    EXPECT_EQ(chaos_->Partition(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  request.add_groups()->add_nodes("nobody");
  grpc::ClientContext context;
  auto status = chaos_->Partition(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("no node \"nobody\""));
}

}  // namespace
}  // namespace nslab::testing
