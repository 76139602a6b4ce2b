// A lab whose participant node or wire cannot start is refused whole: CreateLab says which
// part failed, and nothing of the lab is left (namespaces, host links, state file,
// processes, TAP fds).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/lab_leftovers.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

void ExpectNothingLeftOf(TestDaemon* daemon, const std::string& lab, const HostSnapshot& before) {
  EXPECT_EQ(HostSnapshot::Take(lab).DiffFrom(before), "");
  EXPECT_FALSE(std::filesystem::exists(daemon->state_dir() + "/" + lab + ".json"));
  EXPECT_THAT(ProcessesOfLab(lab), ::testing::IsEmpty());
  EXPECT_EQ(TunFdsOf(daemon->pid()), 0) << "nslabd holds TAP fds after the rollback";
  nslab::v1::ListLabsResponse list;
  grpc::ClientContext context;
  ASSERT_TRUE(daemon->labs().ListLabs(&context, {}, &list).ok());
  EXPECT_EQ(list.labs_size(), 0) << list.DebugString();
}

// The participant node comes last (after every link and wire is up), so its failure has
// the most to undo.
constexpr char kStackBehindAWire[] = R"(
nodes:
  kernel: {kind: host}
  stack: {kind: ustack, services: [{udp: 7, app: echo}]}
links:
  - {a: kernel:eth0, b: stack:eth0, a_addr: 10.9.0.1/24, b_addr: 10.9.0.2/24, mode: wire}
run:
  kernel: ["exec sleep 600"]
)";

TEST(LabRollbackTest, AUstackNodeThatCannotStartLeavesNothing) {
  const std::string missing = "/nonexistent/nslab-ustack-" + std::to_string(getpid());
  TestDaemon daemon({"--ustack-binary", missing});
  const std::string name = UniqueLabName("nostack");
  const HostSnapshot before = HostSnapshot::Take(name);
  LabGuard guard(&daemon, name);  // should the build wrongly succeed
  auto status = daemon.CreateFromYaml(kStackBehindAWire, name);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.error_message(), HasSubstr("nodes.stack (ustack)"));
  EXPECT_THAT(status.error_message(), HasSubstr("everything built so far was removed"));
  ExpectNothingLeftOf(&daemon, name, before);
}

class WireRollbackTest : public DaemonSuite<> {};

TEST_F(WireRollbackTest, AWireThatCannotStartLeavesNothing) {
  const std::string name = UniqueLabName("nowire");
  const HostSnapshot before = HostSnapshot::Take(name);
  LabGuard guard(daemon_, name);  // should the build wrongly succeed
  // Valid to the validator, refused by the kernel once the wire's TAPs exist and forward:
  // which sysctls a kernel has cannot be known from the file (an MTU IPv6 refuses can, and
  // is refused before building).
  auto status = daemon_->CreateFromYaml(R"(
nodes: {a: {}, b: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
  - {a: a:eth1, b: b:eth1, a_addr: 10.0.1.1/24, mode: wire, mtu: 1000}
sysctls:
  b: {net.ipv4.nslab_no_such_knob: 1}
run:
  b: ["exec sleep 600"]
)",
                                        name);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.error_message(), HasSubstr("sysctls.b.net.ipv4.nslab_no_such_knob"));
  EXPECT_THAT(status.error_message(), HasSubstr("everything built so far was removed"));
  ExpectNothingLeftOf(daemon_, name, before);
}

}  // namespace
}  // namespace nslab::testing
