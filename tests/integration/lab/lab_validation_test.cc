// Bad topologies get INVALID_ARGUMENT naming the key path, and build nothing.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

struct BadTopology {
  const char* label;
  const char* yaml;
  grpc::StatusCode code;
  const char* expected;
};

class LabValidationTest : public DaemonSuite<::testing::TestWithParam<BadTopology>> {};

TEST_P(LabValidationTest, IsRefusedAndBuildsNothing) {
  const std::string name = UniqueLabName("bad");
  const HostSnapshot before = HostSnapshot::Take(name);
  auto status = daemon_->CreateFromYaml(GetParam().yaml, name);
  EXPECT_EQ(status.error_code(), GetParam().code) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(GetParam().expected));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

INSTANTIATE_TEST_SUITE_P(
    Topologies, LabValidationTest,
    ::testing::Values(
        BadTopology{"UnknownNode", "nodes: {client: {}}\nlinks: [{a: client:eth0, b: srv:eth0}]\n",
                    grpc::StatusCode::INVALID_ARGUMENT,
                    "links[0].b: node \"srv\" is not defined (line 2)"},
        BadTopology{"DuplicateInterface",
                    "nodes: {a: {}, b: {}, c: {}}\n"
                    "links: [{a: a:eth0, b: b:eth0}, {a: a:eth0, b: c:eth0}]\n",
                    grpc::StatusCode::INVALID_ARGUMENT, "links[1].a"},
        BadTopology{"BadCidr",
                    "nodes: {a: {}, b: {}}\n"
                    "links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/40}]\n",
                    grpc::StatusCode::INVALID_ARGUMENT, "links[0].a_addr[0]"},
        BadTopology{"UnknownKey", "nodes: {a: {}}\nlinkz: []\n", grpc::StatusCode::INVALID_ARGUMENT,
                    "linkz: unknown key"},
        BadTopology{"InterfaceNameTooLong",
                    "nodes: {a: {}, b: {}}\nlinks: [{a: a:averyveryverylongname, b: b:eth0}]\n",
                    grpc::StatusCode::INVALID_ARGUMENT, "1 to 15 characters"},
        BadTopology{"NotYaml", "nodes: [\n", grpc::StatusCode::INVALID_ARGUMENT, "not valid YAML"},
        BadTopology{"UstackWithoutLink", "nodes: {s: {kind: ustack}}\n",
                    grpc::StatusCode::UNIMPLEMENTED, "exactly one link"}),
    [](const ::testing::TestParamInfo<BadTopology>& info) { return info.param.label; });

}  // namespace
}  // namespace nslab::testing
