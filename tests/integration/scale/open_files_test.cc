// A daemon under an ordinary open-files limit builds labs of hundreds of nodes (it keeps a
// bounded window of namespace and netlink fds while building, and raises its soft limit to
// the hard one), and refuses, before building anything, a lab that cannot fit.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

// One switch and `hosts` hosts on it: hosts + 1 nodes.
std::string StarYaml(int hosts) {
  std::string yaml = "nodes:\n  sw: {kind: switch}\n";
  for (int i = 1; i <= hosts; ++i) {
    absl::StrAppend(&yaml, "  h", i, ": {}\n");
  }
  absl::StrAppend(&yaml, "links:\n");
  for (int i = 1; i <= hosts; ++i) {
    absl::StrAppend(&yaml, "  - {a: h", i, ":eth0, b: sw:p", i, ", a_addr: 10.77.", i / 256, ".",
                    i % 256, "/16}\n");
  }
  return yaml;
}

TEST(OpenFilesTest, TheSoftLimitIsRaisedToTheHardOneAtStart) {
  TestDaemon daemon({}, {.soft = 256, .hard = 4096});
  EXPECT_THAT(daemon.LogText(), HasSubstr("open-files limit: soft 4096 (was 256), hard 4096"));
}

TEST(OpenFilesTest, ALabOfMoreNodesThanHalfTheLimitIsBuilt) {
  // 512 fds in all: the old build held two per node at once and stopped near 250 nodes.
  TestDaemon daemon({}, {.soft = 512, .hard = 512});
  const std::string name = UniqueLabName("fds");
  LabGuard guard(&daemon, name);
  nslab::v1::Lab lab;
  auto status = daemon.CreateFromYaml(StarYaml(269), name, &lab);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(lab.nodes_size(), 270);
  // Built whole: the last host reaches the first through the switch.
  auto ping = daemon.Exec(name, "h269", {"ping", "-c1", "-W2", "10.77.0.1"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err << ping.status.error_message();
  EXPECT_TRUE(daemon.Delete(name).ok());
}

TEST(OpenFilesTest, ALabThatCannotFitIsRefusedBeforeBuilding) {
  TestDaemon daemon({}, {.soft = 256, .hard = 256});
  const std::string name = UniqueLabName("nofit");
  const HostSnapshot before = HostSnapshot::Take(name);
  LabGuard guard(&daemon, name);  // should the build wrongly start
  auto status = daemon.CreateFromYaml(StarYaml(299), name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("open-files limit"));
  EXPECT_THAT(status.error_message(), HasSubstr("RLIMIT_NOFILE soft 256, hard 256"));
  EXPECT_THAT(status.error_message(), HasSubstr("raise the hard limit"));
  // Nothing was made: no namespace, no link, no state file.
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

}  // namespace
}  // namespace nslab::testing
