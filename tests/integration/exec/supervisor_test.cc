// The supervisor's Signal and Restart on real processes in a namespace of the test's own
// (root): selectors, policies, events, waiting for the ready line; and a ustack node's stack
// restarted through the registry's supervisor answering its control socket at once.
#include "daemon/exec/supervisor.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "daemon/events/event_bus.h"
#include "daemon/exec/process_registry.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/netns/netns.h"
#include "daemon/topology/yaml_reader.h"
#include "nslab/v1/ustack.grpc.pb.h"

namespace nslab::exec {
namespace {

using nslab::v1::LabEvent;
using ::testing::HasSubstr;

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, ::getpid(), "-", counter++);
}

// The next event of the subscription within 30 s (a bound, not a timing assertion).
std::optional<LabEvent> NextEvent(events::Subscription& subscription) {
  return subscription.Next(absl::Now() + absl::Seconds(30));
}

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (a network namespace)";
    }
    netns_ = UniqueName("nslab-sv-");
    ASSERT_TRUE(netns::Create(netns_).ok());
    created_ = true;
    watch_ = bus_.Subscribe(kLab);
  }
  void TearDown() override {
    supervisor_.StopLab(kLab);
    if (created_) {
      EXPECT_TRUE(netns::Delete(netns_).ok());
    }
  }

  absl::Status Start(std::vector<std::string> argv, RestartPolicy policy,
                     std::string ready_line = "") {
    ProcessSpec spec;
    spec.lab = kLab;
    spec.node = kNode;
    spec.netns = netns_;
    spec.argv = std::move(argv);
    spec.restart = policy;
    spec.ready_line = std::move(ready_line);
    return supervisor_.Start(spec);
  }
  ProcessReport Only() {
    auto reports = supervisor_.Report(kLab, kNode);
    EXPECT_EQ(reports.size(), 1u);
    return reports.empty() ? ProcessReport{} : reports.front();
  }

  static constexpr char kLab[] = "svlab";
  static constexpr char kNode[] = "node";
  std::string netns_;
  bool created_ = false;
  events::EventBus bus_;
  Supervisor supervisor_{&bus_};
  std::unique_ptr<events::Subscription> watch_;
};

TEST_F(SupervisorTest, SignalOfAnAlwaysProcessIsAnnouncedAndRestarted) {
  ASSERT_TRUE(Start({"sleep", "3600"}, RestartPolicy::kAlways).ok());
  const pid_t first = Only().pid;
  ASSERT_TRUE(supervisor_.Signal(kLab, kNode, "sleep", SIGTERM).ok());
  auto exited = NextEvent(*watch_);
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->kind(), nslab::v1::LAB_EVENT_KIND_PROCESS_EXITED);
  EXPECT_EQ(exited->node(), kNode);
  EXPECT_EQ(exited->subject(), "sleep");
  EXPECT_EQ(exited->message(), "sleep was killed by SIGTERM");
  auto restarted = NextEvent(*watch_);
  ASSERT_TRUE(restarted.has_value());
  EXPECT_EQ(restarted->kind(), nslab::v1::LAB_EVENT_KIND_PROCESS_RESTARTED);
  const ProcessReport report = Only();
  EXPECT_TRUE(report.running);
  EXPECT_EQ(report.restarts, 1);
  EXPECT_NE(report.pid, first);
  EXPECT_EQ(report.last_exit_code, 128 + SIGTERM);
}

TEST_F(SupervisorTest, ANeverProcessStaysStoppedUntilRestarted) {
  ASSERT_TRUE(Start({"sleep", "3600"}, RestartPolicy::kNever).ok());
  ASSERT_TRUE(supervisor_.Signal(kLab, kNode, "", SIGKILL).ok());
  auto exited = NextEvent(*watch_);
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->kind(), nslab::v1::LAB_EVENT_KIND_PROCESS_EXITED);
  EXPECT_FALSE(Only().running);
  const absl::Status again = supervisor_.Signal(kLab, kNode, "", SIGKILL);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("not running"));
  // Restart starts it again whatever the policy.
  ASSERT_TRUE(supervisor_.Restart(kLab, kNode, "sleep", SIGTERM).ok());
  const ProcessReport report = Only();
  EXPECT_TRUE(report.running);
  EXPECT_EQ(report.restarts, 1);
  auto restarted = NextEvent(*watch_);
  ASSERT_TRUE(restarted.has_value());
  EXPECT_EQ(restarted->kind(), nslab::v1::LAB_EVENT_KIND_PROCESS_RESTARTED);
}

TEST_F(SupervisorTest, RestartReturnsOnceTheNewRunPrintedItsReadyLine) {
  // Ready only after a pause, so a Restart that did not wait would find one line.
  ASSERT_TRUE(Start({"sh", "-c", "sleep 0.3; echo up and ready; exec sleep 3600"},
                    RestartPolicy::kNever, "up and ready")
                  .ok());
  ASSERT_TRUE(supervisor_.Restart(kLab, kNode, "sh", SIGTERM).ok());
  const ProcessReport report = Only();
  EXPECT_TRUE(report.running);
  EXPECT_EQ(report.restarts, 1);
  size_t lines = 0;
  for (size_t at = report.output.find("up and ready"); at != std::string::npos;
       at = report.output.find("up and ready", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 2u) << report.output;
}

TEST_F(SupervisorTest, StartAndRestartWaitForTheReadyProbe) {
  // The probe holds once the run made its mark, 0.3 s after it began: a Start or Restart
  // that did not wait for it would return before the mark is there.
  const std::string mark = absl::StrCat("/tmp/", UniqueName("nslab-sv-probe-"));
  ProcessSpec spec;
  spec.lab = kLab;
  spec.node = kNode;
  spec.netns = netns_;
  spec.argv = {"sh", "-c", absl::StrCat("sleep 0.3; touch ", mark, "; exec sleep 3600")};
  std::atomic<int> asked{0};
  spec.ready_probe = [&]() -> absl::StatusOr<bool> {
    ++asked;
    return std::filesystem::exists(mark);
  };
  spec.ready_description = "the mark made";
  ASSERT_TRUE(supervisor_.Start(spec).ok());
  EXPECT_TRUE(std::filesystem::remove(mark)) << "Start returned before the probe held";
  EXPECT_GT(asked.load(), 1);
  ASSERT_TRUE(supervisor_.Restart(kLab, kNode, "sh", SIGTERM).ok());
  EXPECT_TRUE(std::filesystem::remove(mark)) << "Restart returned before the probe held";
}

TEST_F(SupervisorTest, AProbeThatNeverHoldsTimesOutNamingIt) {
  ProcessSpec spec;
  spec.lab = kLab;
  spec.node = kNode;
  spec.netns = netns_;
  spec.argv = {"sh", "-c", "echo starting; exec sleep 3600"};
  spec.ready_probe = []() -> absl::StatusOr<bool> { return false; };
  spec.ready_description = "tcp port 9 listening";
  spec.ready_timeout = absl::Milliseconds(200);
  const absl::Status status = supervisor_.Start(spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_THAT(status.message(), HasSubstr("did not become ready (tcp port 9 listening) within"));
  EXPECT_THAT(status.message(), HasSubstr("it printed: starting"));
  EXPECT_TRUE(supervisor_.Report(kLab, kNode).empty()) << "a failed start left its process";
}

TEST_F(SupervisorTest, RestartOfARunThatExitsBeforeItIsReadySaysSo) {
  // The first run leaves a mark and gets ready; every later run finds it and fails.
  const std::string mark = absl::StrCat("/tmp/", UniqueName("nslab-sv-mark-"));
  const std::string script =
      absl::StrCat("if [ -e ", mark, " ]; then echo broken; exit 3; fi; touch ", mark,
                   "; echo ready; exec sleep 3600");
  ASSERT_TRUE(Start({"sh", "-c", script}, RestartPolicy::kNever, "ready").ok());
  const absl::Status restarted = supervisor_.Restart(kLab, kNode, "", SIGTERM);
  std::filesystem::remove(mark);
  EXPECT_EQ(restarted.code(), absl::StatusCode::kFailedPrecondition) << restarted;
  EXPECT_THAT(restarted.message(), HasSubstr("exited (code 3) before it was ready"));
  EXPECT_THAT(restarted.message(), HasSubstr("it printed: broken"));
}

TEST_F(SupervisorTest, SelectorsSayWhatToFix) {
  ASSERT_TRUE(Start({"sleep", "3600"}, RestartPolicy::kNever).ok());
  ASSERT_TRUE(Start({"/bin/sleep", "3601"}, RestartPolicy::kNever).ok());
  ASSERT_TRUE(Start({"sh", "-c", "exec sleep 3602"}, RestartPolicy::kNever).ok());

  const absl::Status none = supervisor_.Signal(kLab, kNode, "", SIGTERM);
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.message(), HasSubstr("runs 3 processes (sleep, sleep, sh)"));

  const absl::Status ambiguous = supervisor_.Signal(kLab, kNode, "sleep", SIGTERM);
  EXPECT_EQ(ambiguous.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ambiguous.message(), HasSubstr("\"sleep\" names 2 processes"));

  const absl::Status unknown = supervisor_.Signal(kLab, kNode, "nginx", SIGTERM);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.message(),
              HasSubstr("no process \"nginx\"; its processes: sleep, sleep, sh"));

  const absl::Status no_node = supervisor_.Restart(kLab, "elsewhere", "", SIGTERM);
  EXPECT_EQ(no_node.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(no_node.message(), HasSubstr("svlab:elsewhere has no supervised process"));

  // As written picks one of the two sleeps; only that one is signalled.
  ASSERT_TRUE(supervisor_.Signal(kLab, kNode, "/bin/sleep", SIGKILL).ok());
  auto exited = NextEvent(*watch_);
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->message(), "sleep was killed by SIGKILL");
  int running = 0;
  for (const auto& report : supervisor_.Report(kLab, kNode)) {
    running += report.running ? 1 : 0;
    if (!report.running) {
      EXPECT_EQ(report.argv[0], "/bin/sleep");
    }
  }
  EXPECT_EQ(running, 2);
}

TEST_F(SupervisorTest, StoppingALabAnnouncesNothing) {
  ASSERT_TRUE(Start({"sleep", "3600"}, RestartPolicy::kAlways).ok());
  supervisor_.StopLab(kLab);
  EXPECT_FALSE(watch_->HasNext());
  EXPECT_TRUE(supervisor_.Report(kLab, kNode).empty());
}

// A ustack node built by the registry: its stack is the supervised process "stack", and a
// restarted stack answers its control socket as soon as Restart returns.
TEST(UstackStackRestartTest, TheRestartedStackAnswersAtOnce) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root (namespaces, TAP)";
  }
  const std::string dir = absl::StrCat("/tmp/nslab-sv-state-", ::getpid());
  events::EventBus bus;
  ProcessRegistry processes;
  Supervisor supervisor(&bus);
  std::vector<std::string> log;
  {
    lab::LabRegistry registry(lab::StateStore(dir), &processes, &supervisor, {}, &bus);
    registry.set_ustack_binary(NSLAB_USTACK_BINARY);
    ASSERT_TRUE(registry.Recover(&log).ok());
    auto topology = topology::ReadTopologyYaml(R"(
nodes:
  kernel: {kind: host}
  peer: {kind: ustack, services: [{udp: 7, app: echo}]}
links:
  - {a: kernel:eth0, b: peer:eth0, a_addr: 10.9.0.1/24, b_addr: 10.9.0.2/24}
)");
    ASSERT_TRUE(topology.ok()) << topology.status();
    const std::string name = UniqueName("svu");
    auto watch = bus.Subscribe(name);
    auto lab = registry.Create(*topology, name);
    ASSERT_TRUE(lab.ok()) << lab.status();

    const absl::Status restarted = supervisor.Restart(name, "peer", "stack", SIGTERM);
    EXPECT_TRUE(restarted.ok()) << restarted;
    auto stub = nslab::v1::UstackControlService::NewStub(grpc::CreateChannel(
        "unix:" + registry.UstackControlSocket(name, "peer"), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    nslab::v1::UstackControlServiceGetStatsResponse stats;
    const grpc::Status answered = stub->GetStats(&context, {}, &stats);
    EXPECT_TRUE(answered.ok()) << answered.error_message();
    auto reports = supervisor.Report(name, "peer");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].restarts, 1);

    ASSERT_TRUE(registry.Delete(name).ok());
    std::vector<nslab::v1::LabEventKind> kinds;
    while (auto event = watch->Next(absl::InfinitePast())) {
      kinds.push_back(event->kind());
    }
    EXPECT_THAT(kinds, ::testing::ElementsAre(nslab::v1::LAB_EVENT_KIND_LAB_CREATED,
                                              nslab::v1::LAB_EVENT_KIND_LAB_READY,
                                              nslab::v1::LAB_EVENT_KIND_PROCESS_EXITED,
                                              nslab::v1::LAB_EVENT_KIND_PROCESS_RESTARTED,
                                              nslab::v1::LAB_EVENT_KIND_LAB_DELETED));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nslab::exec
