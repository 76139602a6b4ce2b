// Exec streams output, returns the command's exit code, and stops what it started.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

class ExecTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new TestDaemon();
    lab_ = new std::string(UniqueLabName("exec"));
    ASSERT_TRUE(daemon_->CreateFromYaml(ReadSourceFile("topologies/quickstart.yaml"), *lab_).ok());
  }
  static void TearDownTestSuite() {
    EXPECT_TRUE(daemon_->Delete(*lab_).ok());
    delete daemon_;
    delete lab_;
  }
  static TestDaemon* daemon_;
  static std::string* lab_;
};

TestDaemon* ExecTest::daemon_ = nullptr;
std::string* ExecTest::lab_ = nullptr;

TEST_F(ExecTest, ExitCodeAndBothStreams) {
  auto result = daemon_->Exec(*lab_, "client", {"sh", "-c", "echo out; echo err >&2; exit 7"});
  ASSERT_TRUE(result.status.ok());
  EXPECT_EQ(result.code, 7);
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
}

TEST_F(ExecTest, RunsInsideTheNodesNamespace) {
  auto result = daemon_->Exec(*lab_, "server", {"ip", "-o", "-4", "addr", "show", "dev", "eth0"});
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.out, HasSubstr("10.0.0.2/24"));
  auto env = daemon_->Exec(*lab_, "server", {"sh", "-c", "echo $NSLAB_LAB $NSLAB_NODE"});
  EXPECT_EQ(env.out, *lab_ + " server\n");
}

TEST_F(ExecTest, StdinIsPassed) {
  auto result = daemon_->Exec(*lab_, "client", {"cat"}, "hello through stdin");
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.out, "hello through stdin");
}

TEST_F(ExecTest, TimeoutKillsTheCommand) {
  auto result = daemon_->Exec(*lab_, "client", {"sleep", "30"}, "", 300);
  EXPECT_EQ(result.code, 128 + 9);
}

TEST_F(ExecTest, AMissingCommandExits127AsInAShell) {
  auto result = daemon_->Exec(*lab_, "client", {"no-such-command-here"});
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.code, 127);
  EXPECT_EQ(result.err, "no-such-command-here: command not found\n");
}

TEST_F(ExecTest, UnknownNodeOrLab) {
  EXPECT_EQ(daemon_->Exec(*lab_, "nobody", {"true"}).status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(daemon_->Exec("no-such-lab", "client", {"true"}).status.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// The background child inherits the command's stdout and outlives the call by minutes: if
// Exec waited for it (or for EOF on that pipe), the call would end at its deadline instead.
TEST_F(ExecTest, BackgroundChildrenDoNotHoldTheCallOpen) {
  auto result = daemon_->Exec(*lab_, "client", {"sh", "-c", "sleep 600 & echo $!"});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.code, 0);
  const pid_t child = static_cast<pid_t>(std::stol(result.out));
  // Still running: its /proc entry is there and not a zombie. (Its name may still be the
  // forked shell's, which execs sleep a moment later, so the state is what is checked.)
  std::string stat;
  std::getline(std::ifstream(absl::StrCat("/proc/", child, "/stat")), stat);
  const size_t after_name = stat.rfind(')');
  ASSERT_NE(after_name, std::string::npos) << "the background child is gone when Exec returns";
  EXPECT_NE(stat.substr(after_name + 2, 1), "Z") << "the background child had exited: " << stat;
  ::kill(child, SIGKILL);  // by its exact pid: the one this test started
}

}  // namespace
}  // namespace nslab::testing
