// A lab that cannot fit is refused before building, naming the limit and how to raise it.
#include "daemon/lab/lab_fit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace nslab::lab {
namespace {

using ::testing::HasSubstr;

// A star: one switch with `hosts` hosts on it.
nslab::v1::Topology Star(int hosts) {
  nslab::v1::Topology topology;
  auto* hub = topology.add_nodes();
  hub->set_name("sw");
  hub->set_kind(nslab::v1::NODE_KIND_SWITCH);
  for (int i = 1; i <= hosts; ++i) {
    auto* host = topology.add_nodes();
    host->set_name(absl::StrCat("h", i));
    host->set_kind(nslab::v1::NODE_KIND_HOST);
    auto* link = topology.add_links();
    link->mutable_a()->set_node(host->name());
    link->mutable_a()->set_interface("eth0");
    link->mutable_b()->set_node("sw");
    link->mutable_b()->set_interface(absl::StrCat("p", i));
  }
  return topology;
}

HostLimits Roomy() {
  return {.open_files_soft = 1 << 20,
          .open_files_hard = 1 << 20,
          .open_files_used = 20,
          .max_net_namespaces = 1 << 20,
          .named_namespaces = 0,
          .memory_available_kb = 64ull << 20};
}

TEST(LabFitTest, ALabWithinEveryLimitFits) {
  EXPECT_TRUE(CheckLabFits("s", FootprintOf(Star(500), 0, true), Roomy()).ok());
}

TEST(LabFitTest, TooFewOpenFilesNamesTheLimitAndHowToRaiseIt) {
  HostLimits limits = Roomy();
  limits.open_files_soft = limits.open_files_hard = 1024;
  // A link-watch socket per node while the lab is up: 1,001 of them do not fit in 1,024.
  auto status = CheckLabFits("big", FootprintOf(Star(1000), 0, true), limits);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("open-files limit"));
  EXPECT_THAT(status.message(), HasSubstr("RLIMIT_NOFILE soft 1,024, hard 1,024"));
  EXPECT_THAT(status.message(), HasSubstr("LimitNOFILE="));
  // Without link watches (no events bus) the same lab needs only the build window.
  EXPECT_TRUE(CheckLabFits("big", FootprintOf(Star(1000), 0, false), limits).ok());
}

TEST(LabFitTest, TheBuildWindowDoesNotGrowWithTheLab) {
  EXPECT_EQ(FootprintOf(Star(1000), 0, false).build_fds,
            FootprintOf(Star(10000), 0, false).build_fds);
}

TEST(LabFitTest, TooManyNamespacesNamesTheSysctl) {
  HostLimits limits = Roomy();
  limits.max_net_namespaces = 600;
  limits.named_namespaces = 100;
  auto status = CheckLabFits("big", FootprintOf(Star(500), 0, true), limits);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("user.max_net_namespaces"));
}

TEST(LabFitTest, PortsBeyondWhatBridgesTakeAreRefused) {
  // A switch is a tree of bridges: past one bridge's 1,023 ports it still fits.
  EXPECT_TRUE(CheckLabFits("big", FootprintOf(Star(5000), 0, false), Roomy()).ok());
  // A stack's bridge is one bridge.
  nslab::v1::Topology topology = Star(1023);
  topology.mutable_nodes(0)->set_kind(nslab::v1::NODE_KIND_USTACK);
  auto status = CheckLabFits("big", FootprintOf(topology, 0, false), Roomy());
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("node sw gets 1,024 ports and takes at most 1,023"));
  EXPECT_THAT(status.message(), HasSubstr("BR_MAX_PORTS"));
}

TEST(LabFitTest, TooLittleMemoryIsRefused) {
  HostLimits limits = Roomy();
  limits.memory_available_kb = 100 * 1024;  // 100 MiB
  auto status = CheckLabFits("big", FootprintOf(Star(1000), 0, true), limits);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("MemAvailable"));
}

}  // namespace
}  // namespace nslab::lab
