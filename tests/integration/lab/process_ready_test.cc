// A `run:` process's ready condition: CreateLab returns only once it holds, and fails (the
// lab removed) when the process exits first or the condition does not hold in time.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/lab_leftovers.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

class ProcessReadyTest : public DaemonSuite<> {
 protected:
  void ExpectNoLab(const std::string& name) {
    nslab::v1::ListLabsResponse list;
    grpc::ClientContext context;
    ASSERT_TRUE(daemon_->labs().ListLabs(&context, {}, &list).ok());
    EXPECT_EQ(list.labs_size(), 0) << list.DebugString();
    EXPECT_THAT(ProcessesOfLab(name), ::testing::IsEmpty());
  }
};

// The server binds only after 0.5 s: without its ready condition, CreateLab returns before it
// listens and the first request is refused.
TEST_F(ProcessReadyTest, UpReturnsOnceTheServerListens) {
  const std::string name = UniqueLabName("rdytcp");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_
                  ->CreateFromYaml(R"(
nodes: {c: {}, s: {}}
links: [{a: c:eth0, b: s:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
run:
  s: [{cmd: "sleep 0.5; exec python3 -m http.server 8080 --bind 10.0.0.2", ready: {tcp: 8080}}]
)",
                                   name)
                  .ok());
  auto fetch = daemon_->Exec(name, "c",
                             {"python3", "-c",
                              "import urllib.request;"
                              "print(urllib.request.urlopen('http://10.0.0.2:8080/').status)"});
  EXPECT_EQ(fetch.out, "200\n") << fetch.err;
}

TEST_F(ProcessReadyTest, UpReturnsOnceTheProcessPrintsItsLine) {
  const std::string name = UniqueLabName("rdyline");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_
                  ->CreateFromYaml(R"(
nodes: {s: {}}
run:
  s: [{cmd: "sleep 0.5; touch /tmp/)" + name +
                                       R"(.ready; echo accepting now; exec sleep 600",
       ready: {line: accepting}}]
)",
                                   name)
                  .ok());
  // The file is made just before the line is printed: it is there when up returns.
  auto check = daemon_->Exec(name, "s", {"sh", "-c", "test -e /tmp/" + name + ".ready"});
  EXPECT_EQ(check.code, 0) << "CreateLab returned before the process said it was ready";
  daemon_->Exec(name, "s", {"rm", "-f", "/tmp/" + name + ".ready"});
}

TEST_F(ProcessReadyTest, AProcessThatExitsFirstFailsUpAndLeavesNothing) {
  const std::string name = UniqueLabName("rdyexit");
  const HostSnapshot before = HostSnapshot::Take(name);
  const grpc::Status status = daemon_->CreateFromYaml(R"(
nodes: {s: {}}
run:
  s: [{cmd: "echo cannot bind; exit 3", ready: {tcp: 8080}}]
)",
                                                      name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("run.s[0]"));
  EXPECT_THAT(status.error_message(), HasSubstr("exited (code 3) before it was ready"));
  EXPECT_THAT(status.error_message(), HasSubstr("cannot bind"));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
  ExpectNoLab(name);
}

TEST_F(ProcessReadyTest, AConditionThatNeverHoldsTimesOutNamingIt) {
  const std::string name = UniqueLabName("rdytime");
  const HostSnapshot before = HostSnapshot::Take(name);
  const grpc::Status status = daemon_->CreateFromYaml(R"(
nodes: {s: {}}
run:
  s: [{cmd: "exec sleep 600", ready: {udp: 5353, timeout: 300ms}}]
)",
                                                      name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("did not become ready (udp port 5353 bound) within 300ms"));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
  ExpectNoLab(name);
}

TEST_F(ProcessReadyTest, AWrongConditionIsRefusedBeforeBuilding) {
  const std::string name = UniqueLabName("rdybad");
  const HostSnapshot before = HostSnapshot::Take(name);
  const grpc::Status status = daemon_->CreateFromYaml(R"(
nodes: {s: {}}
run:
  s: [{cmd: "exec sleep 600", ready: {tcp: 80, line: up}}]
)",
                                                      name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("run.s[0].ready"));
  EXPECT_THAT(status.error_message(), HasSubstr("exactly one of"));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

}  // namespace
}  // namespace nslab::testing
