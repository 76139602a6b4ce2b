// What tools expect of a gRPC daemon: one daemon per state directory, health per service,
// and reflection v1 (as grpcurl asks it) next to v1alpha.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/shell_process.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

class DaemonConventionsTest : public DaemonSuite<> {};

TEST_F(DaemonConventionsTest, ASecondDaemonOnTheSameStateRefusesAndChangesNothing) {
  const std::string name = UniqueLabName("lock");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_
                  ->CreateFromYaml("nodes: {a: {}, b: {}}\n"
                                   "links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, "
                                   "b_addr: 10.0.0.2/24}]\n",
                                   name)
                  .ok());
  const std::string other_socket = daemon_->state_dir() + "/../second.sock";
  const CommandResult second =
      RunCommand(absl::StrCat("timeout 10 ", NSLABD_PATH, " --socket ", other_socket,
                              " --state-dir ", daemon_->state_dir()));
  EXPECT_NE(second.code, 0) << second.output;
  EXPECT_THAT(second.output,
              HasSubstr(absl::StrCat("is in use by another nslabd (pid ", daemon_->pid(), ")")));
  EXPECT_FALSE(std::filesystem::exists(other_socket)) << "the second daemon listened";

  // The first daemon's lab is untouched: listed as ready, its nodes still talk.
  grpc::ClientContext context;
  nslab::v1::GetLabRequest request;
  request.set_name(name);
  nslab::v1::GetLabResponse response;
  ASSERT_TRUE(daemon_->labs().GetLab(&context, request, &response).ok());
  EXPECT_EQ(response.lab().state(), nslab::v1::LAB_STATE_READY);
  auto ping = daemon_->Exec(name, "a", {"ping", "-c", "1", "-W", "2", "10.0.0.2"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err;
}

TEST_F(DaemonConventionsTest, HealthAnswersPerService) {
  auto health = grpc::health::v1::Health::NewStub(daemon_->channel());
  for (const std::string service :
       {"", "nslab.v1.LabsService", "nslab.v1.ExecService", "nslab.v1.SystemService",
        "nslab.v1.ChaosService", "nslab.v1.DiagnosticsService", "nslab.v1.ParticipantsService",
        "nslab.v1.ScenarioService"}) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, request, &response);
    ASSERT_TRUE(status.ok()) << "'" << service << "': " << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("nslab.v1.NoSuchService");
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_EQ(health->Check(&context, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

// One reflection stream, as grpcurl uses it: list the services, then ask for the file that
// defines one, which arrives with the files it imports.
TEST_F(DaemonConventionsTest, ReflectionV1ListsServicesAndDescribesThem) {
  auto reflection = grpc::reflection::v1::ServerReflection::NewStub(daemon_->channel());
  grpc::ClientContext context;
  auto stream = reflection->ServerReflectionInfo(&context);
  grpc::reflection::v1::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> services;
  for (const auto& service : response.list_services_response().service()) {
    services.push_back(service.name());
  }
  EXPECT_THAT(
      services,
      IsSupersetOf({"nslab.v1.LabsService", "nslab.v1.ExecService", "nslab.v1.DiagnosticsService",
                    "grpc.reflection.v1.ServerReflection", "grpc.health.v1.Health"}));

  request.set_file_containing_symbol("nslab.v1.LabsService.CreateLab");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_file_descriptor_response()) << response.DebugString();
  std::vector<std::string> files;
  bool create_lab_found = false;
  for (const auto& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    files.push_back(file.name());
    for (const auto& service : file.service()) {
      for (const auto& method : service.method()) {
        create_lab_found |= service.name() == "LabsService" && method.name() == "CreateLab";
      }
    }
  }
  EXPECT_TRUE(create_lab_found);
  EXPECT_THAT(files, IsSupersetOf({"nslab/v1/labs.proto", "nslab/v1/topology.proto"}));

  request.set_file_containing_symbol("nslab.v1.NoSuchThing");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// A restarted nslabd answers while it recovers, but only to say so: health NOT_SERVING for
// the server and each service, UNAVAILABLE for everything else, never a half-recovered lab.
// Its stack takes 3 s to come back here (a wrapper sleeps first), which holds recovery open.
TEST_F(DaemonConventionsTest, WhileRecoveringHealthSaysNotServingAndCallsAreUnavailable) {
  const std::string name = UniqueLabName("recov");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_
                  ->CreateFromYaml("nodes: {k: {}, s: {kind: ustack}}\n"
                                   "links: [{a: k:eth0, b: s:eth0, a_addr: 10.9.0.1/24, "
                                   "b_addr: 10.9.0.2/24}]\n",
                                   name)
                  .ok());
  const std::string wrapper = daemon_->state_dir() + "/../slow-ustack.sh";
  {
    std::ofstream script(wrapper);
    script << "#!/bin/sh\nsleep 3\nexec " << NSLAB_USTACK_BINARY << " \"$@\"\n";
  }
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  daemon_->Stop(SIGKILL);

  // However the test ends: no daemon of its own left running, the suite's daemon serving again.
  struct RecoveringDaemon {
    TestDaemon* suite_daemon;
    pid_t pid = -1;
    ~RecoveringDaemon() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
      if (suite_daemon->pid() < 0) {
        suite_daemon->Restart();
      }
    }
  } child{daemon_};
  const pid_t recovering = ::fork();
  if (recovering == 0) {
    const std::string log = daemon_->state_dir() + "/../recovering.log";
    (void)std::freopen(log.c_str(), "a", stderr);
    ::execl(NSLABD_PATH, NSLABD_PATH, "--socket", daemon_->socket().c_str(), "--state-dir",
            daemon_->state_dir().c_str(), "--ustack-binary", wrapper.c_str(), nullptr);
    ::_exit(127);
  }
  child.pid = recovering;
  auto channel =
      grpc::CreateChannel("unix:" + daemon_->socket(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  for (const std::string service : {"", "nslab.v1.LabsService"}) {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, request, &response).ok()) << "'" << service << "'";
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING) << service;
  }
  {
    grpc::ClientContext context;
    nslab::v1::ListLabsResponse labs;
    const grpc::Status status =
        nslab::v1::LabsService::NewStub(channel)->ListLabs(&context, {}, &labs);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_THAT(status.error_message(), HasSubstr("recovering"));
  }
  // Then SERVING, with the lab and its stack back. A client asking without a pause across
  // the handoff gets an answer every time: NOT_SERVING, then SERVING, never an error (the
  // recovery server once cancelled the call that crossed it).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int not_serving = 0;
  bool serving = false;
  while (!serving && std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, {}, &response);
    ASSERT_TRUE(status.ok()) << "after " << not_serving
                             << " NOT_SERVING answers: " << status.error_code() << " "
                             << status.error_message();
    serving = response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    not_serving += serving ? 0 : 1;
  }
  ASSERT_TRUE(serving) << "still NOT_SERVING after 20 s";
  nslab::v1::GetUstackStatsRequest stats_request;
  stats_request.set_lab(name);
  stats_request.set_node("s");
  nslab::v1::GetUstackStatsResponse stats;
  grpc::ClientContext stats_context;
  EXPECT_TRUE(nslab::v1::ParticipantsService::NewStub(channel)
                  ->GetUstackStats(&stats_context, stats_request, &stats)
                  .ok());
  ::kill(recovering, SIGTERM);
  int status = 0;
  ::waitpid(recovering, &status, 0);
  child.pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace nslab::testing
