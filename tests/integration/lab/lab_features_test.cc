// Supervised processes, plans without building, TTL expiry.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

class LabFeaturesTest : public DaemonSuite<> {
 protected:
  nslab::v1::GetLogsResponse Logs(const std::string& lab, const std::string& node) {
    nslab::v1::GetLogsRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::GetLogsResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(daemon_->labs().GetLogs(&context, request, &response).ok());
    return response;
  }

  // Polls a node's GetLogs until `done` holds of it, for at most `timeout`; returns the last
  // response. A test failure naming `what` and showing the last response if it never holds.
  nslab::v1::GetLogsResponse WaitForLogs(
      const std::string& lab, const std::string& node, const std::string& what,
      const std::function<bool(const nslab::v1::GetLogsResponse&)>& done,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto start = std::chrono::steady_clock::now();
    nslab::v1::GetLogsRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::GetLogsResponse response;
    while (true) {
      response.Clear();
      grpc::ClientContext context;
      auto status = daemon_->labs().GetLogs(&context, request, &response);
      if (!status.ok()) {
        ADD_FAILURE() << "GetLogs " << lab << " " << node << " while waiting for " << what << ": "
                      << status.error_code() << " " << status.error_message();
        return response;
      }
      if (done(response)) {
        return response;
      }
      if (std::chrono::steady_clock::now() - start >= timeout) {
        ADD_FAILURE() << "after " << timeout.count() << " ms still waiting for " << what
                      << "; node " << node << "'s processes were:\n"
                      << response.DebugString();
        return response;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
};

constexpr char kRunLab[] = R"(
nodes: {a: {}, b: {}}
links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
run:
  b:
    - "echo serving; exec sleep 600"
    - {cmd: "echo crashed; exit 3", restart: on-failure}
    - {argv: [sh, -c, "ip -o -4 addr show dev eth0"]}
)";

TEST_F(LabFeaturesTest, RunProcessesAreSupervisedLoggedAndStopped) {
  const std::string name = UniqueLabName("run");
  const HostSnapshot before = HostSnapshot::Take(name);
  {
    LabGuard guard(daemon_, name);
    ASSERT_TRUE(daemon_->CreateFromYaml(kRunLab, name).ok());
    // The crashing process is restarted 0.2 s after its first exit; the one-shot ends at once.
    auto logs =
        WaitForLogs(name, "b", "a restart of the on-failure process and the one-shot's exit",
                    [](const nslab::v1::GetLogsResponse& seen) {
                      return seen.processes_size() == 3 && seen.processes(1).restarts() >= 1 &&
                             !seen.processes(2).running() &&
                             absl::StrContains(seen.processes(0).output(), "serving");
                    });
    ASSERT_EQ(logs.processes_size(), 3);
    EXPECT_TRUE(logs.processes(0).running());
    EXPECT_THAT(logs.processes(0).output(), HasSubstr("serving"));
    const int server_pid = logs.processes(0).pid();
    EXPECT_GE(logs.processes(1).restarts(), 1);  // on-failure: restarted after exit 3
    EXPECT_EQ(logs.processes(1).last_exit_code(), 3);
    EXPECT_FALSE(logs.processes(2).running());  // never: ran once, inside the node
    EXPECT_THAT(logs.processes(2).output(), HasSubstr("10.0.0.2/24"));
    EXPECT_EQ(Logs(name, "a").processes_size(), 0);
    ASSERT_TRUE(daemon_->Delete(name).ok());
    EXPECT_NE(kill(server_pid, 0), 0) << "supervised process survived its lab";
  }
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

TEST_F(LabFeaturesTest, RestartAlwaysRestartsAProcessThatExitedCleanly) {
  const std::string name = UniqueLabName("always");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_
                  ->CreateFromYaml(
                      "nodes: {a: {}}\nrun:\n  a: [{cmd: \"echo tick\", restart: always}]\n", name)
                  .ok());
  // Exit code 0 is no failure: only `always` brings it back (0.2 s after its first exit).
  auto logs = WaitForLogs(name, "a", "a second run of the process that exited 0",
                          [](const nslab::v1::GetLogsResponse& seen) {
                            return seen.processes_size() == 1 &&
                                   seen.processes(0).restarts() >= 1 &&
                                   absl::StrContains(seen.processes(0).output(), "tick\ntick\n");
                          });
  ASSERT_EQ(logs.processes_size(), 1);
  EXPECT_GE(logs.processes(0).restarts(), 1);
  EXPECT_EQ(logs.processes(0).last_exit_code(), 0);
  EXPECT_THAT(logs.processes(0).output(), HasSubstr("tick\ntick\n"));
  EXPECT_TRUE(daemon_->Delete(name).ok());
}

TEST_F(LabFeaturesTest, MissingProgramInRunFailsTheBuildAndRollsBack) {
  const std::string name = UniqueLabName("norun");
  const HostSnapshot before = HostSnapshot::Take(name);
  LabGuard guard(daemon_, name);  // should the build wrongly succeed
  auto status = daemon_->CreateFromYaml(
      "nodes: {a: {}}\nrun:\n  a: [{argv: [no-such-daemon-binary]}]\n", name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("run.a[0]"));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

TEST_F(LabFeaturesTest, PlanBuildsNothingAndShowsAutoRoutes) {
  const std::string name = "routed-chain";  // the file's own name; PlanLab builds nothing
  const HostSnapshot before = HostSnapshot::Take(name);
  nslab::v1::PlanLabRequest request;
  request.set_topology_yaml(ReadSourceFile("topologies/routed-chain.yaml"));
  nslab::v1::PlanLabResponse plan;
  grpc::ClientContext context;
  ASSERT_TRUE(daemon_->labs().PlanLab(&context, request, &plan).ok());
  EXPECT_THAT(plan.steps(), ::testing::Contains("add route 10.0.4.0/24 in left via 10.0.1.1"));
  EXPECT_THAT(plan.dot(), HasSubstr("\"r1\" -- \"r2\""));
  EXPECT_THAT(plan.mermaid(), HasSubstr("flowchart LR"));
  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
}

TEST_F(LabFeaturesTest, TtlDeletesTheLab) {
  const std::string name = UniqueLabName("ttl");
  const std::string netns = name + "-a";
  LabGuard guard(daemon_, name);
  // Watching before the lab exists, so that its namespace's removal cannot be missed.
  const int watch = inotify_init1(IN_CLOEXEC);
  ASSERT_GE(watch, 0) << std::strerror(errno);
  ASSERT_GE(inotify_add_watch(watch, "/run/netns", IN_DELETE), 0) << std::strerror(errno);
  ASSERT_TRUE(daemon_->CreateFromYaml("ttl: 1s\nnodes: {a: {}}\n", name).ok());
  ASSERT_TRUE(std::filesystem::exists("/run/netns/" + netns));
  // A 1 s TTL; 10 s without the deletion means the TTL never fired.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool deleted = false;
  alignas(inotify_event) char buffer[4096];
  while (!deleted) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{.fd = watch, .events = POLLIN, .revents = 0};
    if (left.count() <= 0 || poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      break;
    }
    const ssize_t got = read(watch, buffer, sizeof(buffer));
    for (ssize_t at = 0; at < got;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      deleted = deleted || (event->len != 0 && netns == event->name);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  close(watch);
  EXPECT_TRUE(deleted) << "the lab's namespace " << netns << " is still there 9 s after its TTL";
}

TEST_F(LabFeaturesTest, WaitForReturnsOnceAPortListens) {
  const std::string name = UniqueLabName("wait");
  LabGuard guard(daemon_, name);
  nslab::v1::CreateLabRequest request;
  request.set_topology_yaml(R"(
nodes: {c: {}, s: {}}
links: [{a: c:eth0, b: s:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
run:
  s: ["sleep 0.3; exec python3 -m http.server 8080 --bind 10.0.0.2"]
)");
  request.set_name(name);
  auto* wait = request.add_wait_for();
  wait->set_node("s");
  wait->set_protocol("tcp");
  wait->set_port(8080);
  nslab::v1::CreateLabResponse lab;
  grpc::ClientContext context;
  auto status = daemon_->labs().CreateLab(&context, request, &lab);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Ready means ready: the first request succeeds without retries.
  auto fetch = daemon_->Exec(name, "c",
                             {"python3", "-c",
                              "import urllib.request;"
                              "print(urllib.request.urlopen('http://10.0.0.2:8080/')"
                              ".status)"});
  EXPECT_EQ(fetch.out, "200\n") << fetch.err;
}

TEST_F(LabFeaturesTest, WaitForTimesOutNamingTheCondition) {
  const std::string name = UniqueLabName("nowait");
  LabGuard guard(daemon_, name);
  nslab::v1::CreateLabRequest request;
  request.set_topology_yaml("nodes: {s: {}}\n");
  request.set_name(name);
  auto* wait = request.add_wait_for();
  wait->set_node("s");
  wait->set_protocol("udp");
  wait->set_port(5353);
  request.set_wait_timeout_seconds(1);
  nslab::v1::CreateLabResponse lab;
  grpc::ClientContext context;
  auto status = daemon_->labs().CreateLab(&context, request, &lab);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(status.error_message(), HasSubstr("s:udp:5353"));
}

// LAB_VIEW_BASIC returns the lab as recorded, without visiting every node's namespace (what
// `nslab up` asks for, since it prints the name alone); FULL, and unset, read each node's
// interfaces. A view that is not a LabView is refused before anything is built.
TEST_F(LabFeaturesTest, ViewsSayHowMuchOfTheLabComesBack) {
  const std::string name = UniqueLabName("view");
  LabGuard guard(daemon_, name);
  const std::string yaml =
      "nodes: {a: {}, b: {}}\n"
      "links: [{a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]\n";
  {
    nslab::v1::CreateLabRequest request;
    request.set_topology_yaml(yaml);
    request.set_name(name);
    request.set_view(static_cast<nslab::v1::LabView>(7));
    nslab::v1::CreateLabResponse response;
    grpc::ClientContext context;
    const grpc::Status status = daemon_->labs().CreateLab(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("LAB_VIEW_BASIC"));
    EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name + "-a"));
  }
  nslab::v1::CreateLabRequest request;
  request.set_topology_yaml(yaml);
  request.set_name(name);
  request.set_view(nslab::v1::LAB_VIEW_BASIC);
  nslab::v1::CreateLabResponse created;
  grpc::ClientContext context;
  ASSERT_TRUE(daemon_->labs().CreateLab(&context, request, &created).ok());
  ASSERT_EQ(created.lab().nodes_size(), 2);
  EXPECT_EQ(created.lab().state(), nslab::v1::LAB_STATE_READY);
  EXPECT_EQ(created.lab().nodes(0).netns(), name + "-a");
  EXPECT_EQ(created.lab().nodes(0).interfaces_size(), 0);
  EXPECT_EQ(created.lab().links_size(), 1);

  for (const auto view : {nslab::v1::LAB_VIEW_UNSPECIFIED, nslab::v1::LAB_VIEW_FULL}) {
    nslab::v1::GetLabRequest get;
    get.set_name(name);
    get.set_view(view);
    nslab::v1::GetLabResponse full;
    grpc::ClientContext get_context;
    ASSERT_TRUE(daemon_->labs().GetLab(&get_context, get, &full).ok());
    ASSERT_EQ(full.lab().nodes_size(), 2);
    EXPECT_GE(full.lab().nodes(0).interfaces_size(), 1) << nslab::v1::LabView_Name(view);
  }
}

}  // namespace
}  // namespace nslab::testing
