// nslabd opens no file a client names (DESIGN: "Shipping as a container"): the files a
// topology names arrive as text in the request, and a name without text is refused
// without being read.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "nslab/v1/chaos.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class ClientFilesTest : public DaemonSuite<> {};

// /etc/shadow exists on the daemon's host and starts with "root:"; a daemon that read it
// would fail to parse it as a ruleset and quote it back.
TEST_F(ClientFilesTest, ANamedRulesetWithoutItsTextIsRefusedUnread) {
  const std::string name = UniqueLabName("nofile");
  const HostSnapshot before = HostSnapshot::Take(name);
  auto status = daemon_->CreateFromYaml("nodes: {a: {nftables_file: /etc/shadow}}\n", name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              AllOf(HasSubstr("nodes.a.nftables_file: file \"/etc/shadow\" was named but its "
                              "text was not sent"),
                    Not(HasSubstr("root:"))));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

TEST_F(ClientFilesTest, ANamedTraceWithoutItsTextIsRefusedUnread) {
  const std::string name = UniqueLabName("notrace");
  const HostSnapshot before = HostSnapshot::Take(name);
  auto status = daemon_->CreateFromYaml(
      "nodes: {a: {}, b: {}}\n"
      "links: [{a: a:eth0, b: b:eth0, mode: wire, b_to_a: {trace_file: /etc/shadow}}]\n",
      name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              AllOf(HasSubstr("links[0].b_to_a.trace_file: file \"/etc/shadow\""),
                    Not(HasSubstr("root:"))));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

TEST_F(ClientFilesTest, AFileThatNothingNamesIsRefused) {
  const std::string name = UniqueLabName("extra");
  auto status = daemon_->CreateFromYaml("nodes: {a: {nftables_file: gw.nft}}\n", name, nullptr,
                                        {{"gw.nft", "table inet t {}\n"}, {"gw.ntf", "typo"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("files[\"gw.ntf\"]: no nftables_file or trace"));
}

TEST_F(ClientFilesTest, TheSentTextIsWhatIsLoaded) {
  const std::string name = UniqueLabName("sent");
  LabGuard guard(daemon_, name);
  nslab::v1::Lab lab;
  auto status = daemon_->CreateFromYaml(
      "nodes: {gw: {kind: router, nftables_file: rules/gw.nft}}\n", name, &lab,
      {{"rules/gw.nft",
        "table inet sent_by_client {\n  chain c { type filter hook input priority 0; }\n}\n"}});
  ASSERT_TRUE(status.ok()) << status.error_message();
  // The recorded topology keeps both: the name the user wrote and the text that was loaded.
  EXPECT_EQ(lab.topology().nodes(0).nftables_file(), "rules/gw.nft");
  EXPECT_THAT(lab.topology().nodes(0).nftables(), HasSubstr("sent_by_client"));
  auto listed = daemon_->Exec(name, "gw", {"nft", "list", "tables"});
  EXPECT_EQ(listed.code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("table inet sent_by_client"));
}

TEST_F(ClientFilesTest, ARuntimeTraceByNameAloneIsRefusedUnread) {
  const std::string name = UniqueLabName("rttrace");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_
                  ->CreateFromYaml("nodes: {a: {}, b: {}}\n"
                                   "links: [{a: a:eth0, b: b:eth0, mode: wire}]\n",
                                   name)
                  .ok());
  nslab::v1::SetImpairmentRequest request;
  request.set_lab(name);
  request.set_link("a:eth0");
  request.mutable_impairment()->set_trace_file("/etc/shadow");
  nslab::v1::SetImpairmentResponse response;
  grpc::ClientContext context;
  auto status = nslab::v1::ChaosService::NewStub(daemon_->channel())
                    ->SetImpairment(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              AllOf(HasSubstr("was named but its text was not sent"), Not(HasSubstr("root:"))));

  // The same trace sent as text is applied.
  request.mutable_impairment()->set_trace("1\n2\n3\n");
  grpc::ClientContext again;
  status = nslab::v1::ChaosService::NewStub(daemon_->channel())
               ->SetImpairment(&again, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace nslab::testing
