// System.GetVersion: the version this build declares and the kernel the daemon runs on.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <string>

#include "nslab/v1/system.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

class SystemTest : public DaemonSuite<> {};

TEST_F(SystemTest, GetVersionReturnsTheBuildsVersionAndTheKernelRelease) {
  nslab::v1::GetVersionResponse version;
  grpc::ClientContext context;
  auto status = daemon_->system().GetVersion(&context, {}, &version);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(version.version(), NSLAB_PROJECT_VERSION);
  utsname host{};
  ASSERT_EQ(uname(&host), 0);
  EXPECT_EQ(version.kernel(), host.release);
}

}  // namespace
}  // namespace nslab::testing
