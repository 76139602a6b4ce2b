// Run inside Debian's user-mode-linux kernel (Linux 6.1, run_in_uml.sh): it has sch_netem and
// tbf, and nf_tables with the bridge family alone (no inet, ip, ip6 or netdev). nslab must
// build what needs only qdiscs, and refuse what needs the missing families as the kernel's
// limit (FAILED_PRECONDITION naming nftables), never as the user's bad input, changing nothing.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nslab/v1/chaos.grpc.pb.h"
#include "nslab/v1/system.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

constexpr char kDelayOnly[] = R"(
nodes: {a: {}, b: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mode: veth,
     impair: {delay: 40ms}}
)";

class KernelLimitsTest : public DaemonSuite<> {
 protected:
  nslab::v1::Capabilities Capabilities() {
    auto system = nslab::v1::SystemService::NewStub(daemon_->channel());
    nslab::v1::GetCapabilitiesResponse response;
    grpc::ClientContext context;
    auto status = system->GetCapabilities(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.capabilities();
  }

  static const nslab::v1::Capability* Find(const nslab::v1::Capabilities& caps,
                                           const std::string& name) {
    for (const auto& feature : caps.features()) {
      if (feature.name() == name) {
        return &feature;
      }
    }
    return nullptr;
  }

  // The namespaces under /run/netns whose names contain `lab` (the guest's private /run).
  static int NamespacesOf(const std::string& lab) {
    int count = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
      count += absl::StrContains(entry.path().filename().string(), lab);
    }
    return count;
  }
};

TEST_F(KernelLimitsTest, CapabilitiesNameWhatThisKernelLacks) {
  const nslab::v1::Capabilities caps = Capabilities();
  for (const char* present : {"netem", "tbf", "veth", "tun"}) {
    const auto* feature = Find(caps, present);
    ASSERT_NE(feature, nullptr) << present;
    EXPECT_TRUE(feature->available()) << present << ": " << feature->detail();
  }
  const auto* inet = Find(caps, "nftables");
  ASSERT_NE(inet, nullptr);
  EXPECT_FALSE(inet->available());
  EXPECT_TRUE(absl::StrContains(inet->detail(), "inet family")) << inet->detail();
  const auto* seed = Find(caps, "netem_seed");
  ASSERT_NE(seed, nullptr);
  EXPECT_FALSE(seed->available()) << "Linux 6.1 has no TCA_NETEM_PRNG_SEED";
  EXPECT_TRUE(absl::StrContains(seed->detail(), "not seeded")) << seed->detail();
  // With netem there, every impairment field but the trace goes to the kernel backend.
  for (const auto& row : caps.impairments()) {
    EXPECT_EQ(row.veth(), row.parameter() != "trace_file")
        << row.parameter() << ": " << row.veth_how();
  }
}

TEST_F(KernelLimitsTest, DelayOnlyLabBuildsWithNetemAndNoNftables) {
  const std::string name = UniqueLabName("nodelaynft");
  LabGuard guard(daemon_, name);
  auto created = daemon_->CreateFromYaml(kDelayOnly, name);
  ASSERT_TRUE(created.ok()) << created.error_message();
  // 40 ms each way: no echo can come back in under 80 ms.
  auto ping = daemon_->Exec(name, "a", {"ping", "-n", "-c", "3", "-i", "0.2", "10.0.0.2"});
  ASSERT_EQ(ping.code, 0) << ping.out << ping.err;
  const size_t rtt = ping.out.find("rtt min/avg/max/mdev = ");
  ASSERT_NE(rtt, std::string::npos) << ping.out;
  EXPECT_GE(std::stod(ping.out.substr(rtt + 23)), 80.0) << ping.out;
  for (const char* node : {"a", "b"}) {
    auto qdisc = daemon_->Exec(name, node, {"tc", "qdisc", "show", "dev", "eth0"});
    EXPECT_TRUE(absl::StrContains(qdisc.out, "qdisc netem 4e53: root")) << qdisc.out;
    EXPECT_TRUE(absl::StrContains(qdisc.out, "delay 40ms")) << qdisc.out;
  }
}

TEST_F(KernelLimitsTest, PlainLossGoesToNetemNotNftables) {
  const std::string name = UniqueLabName("lossnetem");
  LabGuard guard(daemon_, name);
  auto created = daemon_->CreateFromYaml(R"(
nodes: {a: {}, b: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mode: veth,
     impair: {loss: 2%}}
)",
                                         name);
  ASSERT_TRUE(created.ok()) << created.error_message();
  auto qdisc = daemon_->Exec(name, "a", {"tc", "qdisc", "show", "dev", "eth0"});
  EXPECT_TRUE(absl::StrContains(qdisc.out, "qdisc netem")) << qdisc.out;
  EXPECT_TRUE(absl::StrContains(qdisc.out, "loss 2%")) << qdisc.out;
  auto tables = daemon_->Exec(name, "b", {"nft", "list", "tables"});
  EXPECT_EQ(tables.code, 0) << tables.err;
  EXPECT_EQ(tables.out, "");
}

TEST_F(KernelLimitsTest, PartitionIsRefusedAsTheKernelsLimitAndChangesNothing) {
  const std::string name = UniqueLabName("nopartition");
  LabGuard guard(daemon_, name);
  auto created = daemon_->CreateFromYaml(kDelayOnly, name);
  ASSERT_TRUE(created.ok()) << created.error_message();
  auto chaos = nslab::v1::ChaosService::NewStub(daemon_->channel());
  nslab::v1::PartitionRequest request;
  request.set_lab(name);
  request.add_groups()->add_nodes("a");
  request.add_groups()->add_nodes("b");
  nslab::v1::PartitionResponse response;
  grpc::ClientContext context;
  auto status = chaos->Partition(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "nftables")) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "inet")) << status.error_message();
  auto ping = daemon_->Exec(name, "a", {"ping", "-n", "-c", "1", "-W", "2", "10.0.0.2"});
  EXPECT_EQ(ping.code, 0) << "the refused partition cut the link: " << ping.out << ping.err;
}

TEST_F(KernelLimitsTest, FirewallIsRefusedAsTheKernelsLimit) {
  const std::string name = UniqueLabName("nofirewall");
  LabGuard guard(daemon_, name);
  auto created = daemon_->CreateFromYaml(kDelayOnly, name);
  ASSERT_TRUE(created.ok()) << created.error_message();
  auto chaos = nslab::v1::ChaosService::NewStub(daemon_->channel());
  nslab::v1::SetFirewallRequest request;
  request.set_lab(name);
  request.set_node("a");
  request.set_ruleset(
      "table inet guard {\n  chain in {\n    type filter hook input priority 0;\n"
      "    tcp dport 22 drop\n  }\n}\n");
  nslab::v1::SetFirewallResponse response;
  grpc::ClientContext context;
  auto status = chaos->SetFirewall(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "nf_tables lacks"))
      << status.error_message();
}

TEST_F(KernelLimitsTest, TopologyWithAFirewallIsRefusedAndLeavesNothing) {
  const std::string name = UniqueLabName("nofwtopo");
  LabGuard guard(daemon_, name);
  auto created = daemon_->CreateFromYaml(R"(
nodes:
  a: {nftables: "table inet guard { chain in { type filter hook input priority 0; }; }"}
  b: {}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mode: veth,
     impair: {delay: 5ms}}
)",
                                         name);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << created.error_message();
  EXPECT_TRUE(absl::StrContains(created.error_message(), "nftables")) << created.error_message();
  EXPECT_EQ(NamespacesOf(name), 0) << "the failed build left namespaces behind";
  auto exec = daemon_->Exec(name, "a", {"true"});
  EXPECT_EQ(exec.status.error_code(), grpc::StatusCode::NOT_FOUND) << exec.status.error_message();
}

}  // namespace
}  // namespace nslab::testing
