// A lab's whole life against a real nslabd: create, inspect, use, delete — and the host
// is exactly as before.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

class LabLifecycleTest : public DaemonSuite<> {};

TEST_F(LabLifecycleTest, QuickstartComesUpPingsAndLeavesNothingBehind) {
  const std::string name = UniqueLabName("life");
  const HostSnapshot before = HostSnapshot::Take(name);
  LabGuard guard(daemon_, name);
  nslab::v1::Lab lab;
  ASSERT_TRUE(
      daemon_->CreateFromYaml(ReadSourceFile("topologies/quickstart.yaml"), name, &lab).ok());
  EXPECT_EQ(lab.name(), name);
  EXPECT_EQ(lab.state(), nslab::v1::LAB_STATE_READY);
  ASSERT_EQ(lab.nodes_size(), 2);
  EXPECT_EQ(lab.nodes(0).netns(), name + "-client");
  EXPECT_TRUE(std::filesystem::exists("/run/netns/" + name + "-client"));

  // Each end has its address and is up, with the peer named.
  bool saw_eth0 = false;
  for (const auto& iface : lab.nodes(0).interfaces()) {
    if (iface.name() == "eth0") {
      saw_eth0 = true;
      EXPECT_TRUE(iface.up());
      EXPECT_EQ(iface.kind(), "veth");
      EXPECT_EQ(iface.peer(), "server:eth0");
      EXPECT_THAT(iface.addresses(), ::testing::Contains("10.0.0.1/24"));
    }
  }
  EXPECT_TRUE(saw_eth0);

  auto ping = daemon_->Exec(name, "client", {"ping", "-c1", "-W2", "10.0.0.2"});
  ASSERT_TRUE(ping.status.ok()) << ping.status.error_message();
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err;
  EXPECT_THAT(ping.out, HasSubstr("1 received"));

  // The lab is isolated from the host: the host cannot reach 10.0.0.2.
  EXPECT_EQ(before.host_links, HostSnapshot::Take(name).host_links);

  nslab::v1::ListLabsResponse list;
  grpc::ClientContext list_context;
  ASSERT_TRUE(daemon_->labs().ListLabs(&list_context, {}, &list).ok());
  bool listed = false;
  for (const auto& entry : list.labs()) {
    listed = listed || entry.name() == name;
  }
  EXPECT_TRUE(listed);

  ASSERT_TRUE(daemon_->Delete(name).ok());
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
  EXPECT_FALSE(std::filesystem::exists(daemon_->state_dir() + "/" + name + ".json"));

  nslab::v1::GetLabRequest get;
  get.set_name(name);
  nslab::v1::GetLabResponse gone;
  grpc::ClientContext get_context;
  EXPECT_EQ(daemon_->labs().GetLab(&get_context, get, &gone).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(LabLifecycleTest, SameNameTwiceIsAlreadyExists) {
  const std::string name = UniqueLabName("dup");
  LabGuard guard(daemon_, name);
  const std::string yaml = ReadSourceFile("topologies/quickstart.yaml");
  ASSERT_TRUE(daemon_->CreateFromYaml(yaml, name).ok());
  auto second = daemon_->CreateFromYaml(yaml, name);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(second.error_message(), HasSubstr(name));
  EXPECT_TRUE(daemon_->Delete(name).ok());
}

TEST_F(LabLifecycleTest, TwoLabsWithTheSameNodeNamesAreIsolated) {
  const std::string yaml = ReadSourceFile("topologies/quickstart.yaml");
  const std::string first = UniqueLabName("iso");
  const std::string second = UniqueLabName("iso");
  LabGuard first_guard(daemon_, first);
  LabGuard second_guard(daemon_, second);
  ASSERT_TRUE(daemon_->CreateFromYaml(yaml, first).ok());
  ASSERT_TRUE(daemon_->CreateFromYaml(yaml, second).ok());
  // Same addresses in both labs, each reachable only inside its own lab.
  EXPECT_EQ(daemon_->Exec(first, "client", {"ping", "-c1", "-W2", "10.0.0.2"}).code, 0);
  EXPECT_EQ(daemon_->Exec(second, "client", {"ping", "-c1", "-W2", "10.0.0.2"}).code, 0);
  auto neighbours = daemon_->Exec(first, "client", {"ip", "-o", "link"});
  EXPECT_THAT(neighbours.out, ::testing::Not(HasSubstr(second)));
  EXPECT_TRUE(daemon_->Delete(first).ok());
  // Deleting one lab leaves the other working.
  EXPECT_EQ(daemon_->Exec(second, "client", {"ping", "-c1", "-W2", "10.0.0.2"}).code, 0);
  EXPECT_TRUE(daemon_->Delete(second).ok());
}

TEST_F(LabLifecycleTest, FailedBuildRollsBackAndNamesTheStep) {
  const std::string name = UniqueLabName("rollback");
  const HostSnapshot before = HostSnapshot::Take(name);
  LabGuard guard(daemon_, name);  // should the build wrongly succeed
  // Valid to the validator, refused by the kernel once the links are built: which sysctls a
  // kernel has cannot be known from the file.
  auto status = daemon_->CreateFromYaml(R"(
nodes: {a: {}, b: {}}
links: [{a: a:eth0, b: b:eth0, a_addr: 10.9.0.1/24, b_addr: 10.9.0.2/24}]
sysctls:
  a: {net.ipv4.nslab_no_such_knob: 1}
)",
                                        name);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.error_message(), HasSubstr("sysctls.a.net.ipv4.nslab_no_such_knob"));
  EXPECT_THAT(status.error_message(), HasSubstr("everything built so far was removed"));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
  EXPECT_FALSE(std::filesystem::exists(daemon_->state_dir() + "/" + name + ".json"));
}

TEST_F(LabLifecycleTest, ForeignNamespaceIsNeverTouched) {
  const std::string name = UniqueLabName("foreign");
  const std::string foreign = name + "-client";
  ASSERT_EQ(system(("ip netns add " + foreign).c_str()), 0);
  LabGuard guard(daemon_, name);  // should the build wrongly succeed
  auto status = daemon_->CreateFromYaml(ReadSourceFile("topologies/quickstart.yaml"), name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("not made by this lab"));
  EXPECT_TRUE(std::filesystem::exists("/run/netns/" + foreign));
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name + "-server"));
  ASSERT_EQ(system(("ip netns delete " + foreign).c_str()), 0);
}

TEST_F(LabLifecycleTest, LabsSurviveADaemonKilledWithSigkill) {
  const std::string name = UniqueLabName("crash");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(ReadSourceFile("topologies/quickstart.yaml"), name).ok());
  daemon_->Stop(SIGKILL);
  daemon_->Restart();
  nslab::v1::GetLabRequest get;
  get.set_name(name);
  nslab::v1::GetLabResponse response;
  grpc::ClientContext context;
  auto status = daemon_->labs().GetLab(&context, get, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.lab().state(), nslab::v1::LAB_STATE_READY);
  EXPECT_EQ(daemon_->Exec(name, "client", {"ping", "-c1", "-W2", "10.0.0.2"}).code, 0);
  EXPECT_TRUE(daemon_->Delete(name).ok());
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name + "-client"));
}

TEST_F(LabLifecycleTest, HalfBuiltLabIsRemovedAtStart) {
  // What a daemon killed mid-build leaves: a state file saying CREATING and some of the
  // namespaces it lists. Written as an nslabd that recorded no namespace identities wrote
  // it, so only the names alone decide: a namespace named "<lab>-..." goes, any other stays
  // (lab_recovery_test has the state files that record identities).
  const std::string name = UniqueLabName("half");
  const std::string unprefixed = "other-" + name;
  ASSERT_EQ(system(("ip netns add " + name + "-a").c_str()), 0);
  ASSERT_EQ(system(("ip netns add " + unprefixed).c_str()), 0);
  {
    std::ofstream state(daemon_->state_dir() + "/" + name + ".json");
    state << R"({"name": ")" << name << R"(", "state": "LAB_STATE_CREATING", "nodes": [)"
          << R"({"name": "a", "netns": ")" << name << R"(-a"},)"
          << R"({"name": "b", "netns": ")" << name << R"(-b"},)"
          << R"({"name": "c", "netns": ")" << unprefixed << R"("}]})";
  }
  daemon_->Stop(SIGKILL);
  daemon_->Restart();
  EXPECT_TRUE(std::filesystem::exists("/run/netns/" + unprefixed))
      << "recovery removed a namespace not named after the lab";
  (void)system(("ip netns delete " + unprefixed).c_str());
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name + "-a"));
  EXPECT_FALSE(std::filesystem::exists(daemon_->state_dir() + "/" + name + ".json"));
  nslab::v1::GetLabRequest get;
  get.set_name(name);
  nslab::v1::GetLabResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(daemon_->labs().GetLab(&context, get, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  if (std::filesystem::exists("/run/netns/" + name + "-a")) {
    (void)system(("ip netns delete " + name + "-a").c_str());
  }
}

}  // namespace
}  // namespace nslab::testing
