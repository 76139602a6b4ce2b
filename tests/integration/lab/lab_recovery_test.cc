// What a restarted nslabd does with the labs the previous one left: it brings back their
// `run:` processes, impairments and TTLs, finishes a build or delete cut short by a kill,
// and removes only namespaces that are still the ones it made.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nslab/v1/chaos.grpc.pb.h"
#include "nslab/v1/diag.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/lab_leftovers.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

// Polls `check` until it returns an empty string, for at most `timeout`; a test failure
// naming `what` and the last answer of `check` if it never does.
bool WaitUntil(const std::string& what, const std::function<std::string()>& check,
               std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (true) {
    last = check();
    if (last.empty()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "after " << timeout.count() << " ms still waiting for " << what << ": "
                    << last;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool NamespaceExists(const std::string& name) {
  return std::filesystem::exists("/run/netns/" + name);
}

int Shell(const std::string& command) { return system(command.c_str()); }

// Keeps a namespace alive (and its inode number taken) after its name is gone.
struct HeldFd {
  explicit HeldFd(int fd) : fd(fd) {}
  ~HeldFd() {
    if (fd >= 0) {
      close(fd);
    }
  }
  HeldFd(const HeldFd&) = delete;
  HeldFd& operator=(const HeldFd&) = delete;
  int fd;
};

// A namespace the test itself made with `ip netns add`, deleted by its exact name at the end.
class ForeignNamespace {
 public:
  explicit ForeignNamespace(std::string name) : name_(std::move(name)) {
    made_ = Shell("ip netns add " + name_) == 0 &&
            Shell("ip -n " + name_ + " link add foreign0 type veth peer name foreign1") == 0;
  }
  ~ForeignNamespace() {
    if (NamespaceExists(name_)) {
      (void)Shell("ip netns delete " + name_);
    }
  }
  ForeignNamespace(const ForeignNamespace&) = delete;
  ForeignNamespace& operator=(const ForeignNamespace&) = delete;

  bool made() const { return made_; }
  // Still there, with what the test put inside.
  bool Intact() const { return Shell("ip -n " + name_ + " link show foreign0 >/dev/null") == 0; }

 private:
  std::string name_;
  bool made_ = false;
};

class LabRecoveryTest : public DaemonSuite<> {
 protected:
  std::string StatePath(const std::string& lab) const {
    return daemon_->state_dir() + "/" + lab + ".json";
  }

  grpc::StatusCode GetLabCode(const std::string& lab, nslab::v1::Lab* out = nullptr) {
    nslab::v1::GetLabRequest request;
    request.set_name(lab);
    nslab::v1::GetLabResponse response;
    grpc::ClientContext context;
    const grpc::StatusCode code = daemon_->labs().GetLab(&context, request, &response).error_code();
    if (out != nullptr) {
      *out = response.lab();
    }
    return code;
  }

  nslab::v1::GetLogsResponse Logs(const std::string& lab, const std::string& node) {
    nslab::v1::GetLogsRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::GetLogsResponse response;
    grpc::ClientContext context;
    auto status = daemon_->labs().GetLogs(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Replaces what the state file of `lab` says with `edit` applied, as a daemon killed at
  // that moment would have left it.
  void EditState(const std::string& lab, const std::function<void(nslab::v1::Lab*)>& edit) {
    std::ifstream in(StatePath(lab));
    std::stringstream text;
    text << in.rdbuf();
    nslab::v1::Lab state;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(text.str(), &state).ok())
        << "state file of " << lab << ": " << text.str();
    edit(&state);
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(state, &json).ok());
    std::ofstream(StatePath(lab), std::ios::trunc) << json;
  }

  // Nothing of `lab` is left: no namespace, host link, state file, process or TAP fd.
  void ExpectNothingLeftOf(const std::string& lab, const HostSnapshot& before) {
    EXPECT_EQ(GetLabCode(lab), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(HostSnapshot::Take(lab).DiffFrom(before), "");
    EXPECT_FALSE(std::filesystem::exists(StatePath(lab)));
    WaitUntil("the processes of lab " + lab + " to end", [&] {
      const auto pids = ProcessesOfLab(lab);
      return pids.empty() ? "" : absl::StrCat(pids.size(), " left, the first pid ", pids[0]);
    });
    EXPECT_EQ(TunFdsOf(daemon_->pid()), 0) << "nslabd still holds TAP fds";
  }
};

// Someone deletes a lab's namespace by hand and makes their own under the same name. The
// old namespace is held open meanwhile, so the new one cannot get its inode number.
TEST_F(LabRecoveryTest, AForeignNamespaceUnderARecordedNameSurvivesDelete) {
  const std::string name = UniqueLabName("owndel");
  const std::string replaced = name + "-client";
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(ReadSourceFile("topologies/quickstart.yaml"), name).ok());
  HeldFd old(open(("/run/netns/" + replaced).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(old.fd, 0);
  ASSERT_EQ(Shell("ip netns delete " + replaced), 0);
  ForeignNamespace foreign(replaced);
  ASSERT_TRUE(foreign.made());

  auto status = daemon_->Delete(name);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(foreign.Intact()) << "the lab's delete removed a namespace it did not make";
  EXPECT_FALSE(NamespaceExists(name + "-server"));
  EXPECT_FALSE(std::filesystem::exists(StatePath(name)));
  EXPECT_THAT(daemon_->LogText(),
              HasSubstr("namespace " + replaced + " is not the one lab " + name + " made"));
}

TEST_F(LabRecoveryTest, AForeignNamespaceUnderARecordedNameSurvivesRecovery) {
  const std::string name = UniqueLabName("ownrec");
  const std::string replaced = name + "-client";
  LabGuard guard(daemon_, name);  // should recovery wrongly keep it
  ASSERT_TRUE(daemon_->CreateFromYaml(ReadSourceFile("topologies/quickstart.yaml"), name).ok());
  daemon_->Stop(SIGKILL);
  HeldFd old(open(("/run/netns/" + replaced).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(old.fd, 0);
  ASSERT_EQ(Shell("ip netns delete " + replaced), 0);
  ForeignNamespace foreign(replaced);
  ASSERT_TRUE(foreign.made());

  daemon_->Restart();
  EXPECT_TRUE(foreign.Intact()) << "recovery removed a namespace the lab did not make";
  // The lab cannot run in a namespace that is not its own: the rest of it is removed.
  EXPECT_EQ(GetLabCode(name), grpc::StatusCode::NOT_FOUND);
  (void)daemon_->Delete(name);  // whatever recovery might have kept
  EXPECT_TRUE(foreign.Intact()) << "the recovered lab's delete removed a namespace it did not make";
  EXPECT_FALSE(NamespaceExists(name + "-server"));
  EXPECT_FALSE(std::filesystem::exists(StatePath(name)));
  EXPECT_THAT(daemon_->LogText(),
              HasSubstr("namespace " + replaced + " is not the one lab " + name + " made"));
}

// A state file's claim is checked against the kernel: one that records an identity the
// namespace does not have (hand-written here) gets it left alone.
TEST_F(LabRecoveryTest, AStateFileWithAnotherIdentityDoesNotDeleteTheNamespace) {
  const std::string name = UniqueLabName("ownfile");
  ForeignNamespace foreign(name + "-a");
  ASSERT_TRUE(foreign.made());
  {
    std::ofstream state(StatePath(name));
    state << R"({"name": ")" << name << R"(", "state": "LAB_STATE_DELETING", "nodes": [)"
          << R"({"name": "a", "netns": ")" << name
          << R"(-a", "netnsIdentity": {"device": "1", "inode": "1", "cookie": "1"}}]})";
  }
  daemon_->Stop(SIGKILL);
  daemon_->Restart();
  EXPECT_TRUE(foreign.Intact());
  EXPECT_FALSE(std::filesystem::exists(StatePath(name)));
  EXPECT_EQ(GetLabCode(name), grpc::StatusCode::NOT_FOUND);
}
constexpr char kServerLab[] = R"(
nodes: {c: {}, s: {}}
links: [{a: c:eth0, b: s:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
run:
  s: ["exec python3 -u -m http.server 8080 --bind 10.0.0.2"]
)";

TEST_F(LabRecoveryTest, RunProcessesAreStartedAgainAfterASigkill) {
  const std::string name = UniqueLabName("rerun");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kServerLab, name).ok());
  const auto serving = [&](pid_t not_pid) {
    return [&, not_pid]() -> std::string {
      const auto logs = Logs(name, "s");
      if (logs.processes_size() != 1 || !logs.processes(0).running() ||
          logs.processes(0).pid() == not_pid ||
          !absl::StrContains(logs.processes(0).output(), "Serving HTTP")) {
        return "node s runs {" + logs.ShortDebugString() + "}";
      }
      return "";
    };
  };
  ASSERT_TRUE(WaitUntil("the server to listen", serving(0)));
  const pid_t first = Logs(name, "s").processes(0).pid();

  daemon_->Stop(SIGKILL);
  daemon_->Restart();
  // The old daemon's process was an orphan: replaced, not left running beside the new one.
  EXPECT_TRUE(WaitForProcessExit(first, 10'000))
      << "the first server (pid " << first << ") still runs after the restart";
  ASSERT_TRUE(WaitUntil("a new server process after the restart", serving(first)));
  auto fetch = daemon_->Exec(name, "c",
                             {"python3", "-c",
                              "import urllib.request;"
                              "print(urllib.request.urlopen('http://10.0.0.2:8080/', timeout=5)"
                              ".status)"});
  EXPECT_EQ(fetch.out, "200\n") << fetch.err;
  EXPECT_TRUE(daemon_->Delete(name).ok());
}

// A daemon killed after it recorded CREATING or DELETING, with everything still in place:
// the next one removes the whole lab, processes and wires included.
class KilledMidwayTest : public LabRecoveryTest,
                         public ::testing::WithParamInterface<nslab::v1::LabState> {};

TEST_P(KilledMidwayTest, TheNextDaemonRemovesWhatIsLeft) {
  const std::string name = UniqueLabName("midway");
  const HostSnapshot before = HostSnapshot::Take(name);
  LabGuard guard(daemon_, name);  // should recovery wrongly keep it
  ASSERT_TRUE(daemon_
                  ->CreateFromYaml(R"(
nodes: {a: {}, b: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
  - {a: a:eth1, b: b:eth1, a_addr: 10.0.1.1/24, b_addr: 10.0.1.2/24, mode: wire}
run:
  b: ["exec sleep 600"]
)",
                                   name)
                  .ok());
  // The daemon's own record, not ProcessesOfLab: a process's environment reads empty while it
  // execs (here the shell, into sleep), so a scan of /proc can miss it for that instant.
  const auto started = Logs(name, "b");
  ASSERT_EQ(started.processes_size(), 1) << "the run: process did not start";
  ASSERT_EQ(::kill(started.processes(0).pid(), 0), 0) << "the run: process is not running";
  daemon_->Stop(SIGKILL);
  EditState(name, [&](nslab::v1::Lab* state) { state->set_state(GetParam()); });
  if (GetParam() == nslab::v1::LAB_STATE_DELETING) {
    // The killed delete got as far as the first namespace.
    ASSERT_EQ(Shell("ip netns delete " + name + "-a"), 0);
  }
  daemon_->Restart();
  ExpectNothingLeftOf(name, before);
}

INSTANTIATE_TEST_SUITE_P(States, KilledMidwayTest,
                         ::testing::Values(nslab::v1::LAB_STATE_CREATING,
                                           nslab::v1::LAB_STATE_DELETING),
                         [](const auto& info) { return nslab::v1::LabState_Name(info.param); });

TEST_F(LabRecoveryTest, ImpairmentsSetAtRuntimeSurviveARestart) {
  const std::string name = UniqueLabName("impair");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_
                  ->CreateFromYaml(R"(
nodes: {c: {}, s: {}}
links:
  - {a: c:eth0, b: s:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mode: veth}
  - {a: c:eth1, b: s:eth1, a_addr: 10.0.1.1/24, b_addr: 10.0.1.2/24, mode: wire}
)",
                                   name)
                  .ok());
  auto chaos = nslab::v1::ChaosService::NewStub(daemon_->channel());
  auto set = [&](const std::string& link, const nslab::v1::Impairment& impairment) {
    nslab::v1::SetImpairmentRequest request;
    request.set_lab(name);
    request.set_link(link);
    request.set_direction(nslab::v1::DIRECTION_A_TO_B);
    *request.mutable_impairment() = impairment;
    nslab::v1::SetImpairmentResponse response;
    grpc::ClientContext context;
    return chaos->SetImpairment(&context, request, &response);
  };
  nslab::v1::Impairment rate;  // tbf on c's eth0: no sch_netem needed
  rate.set_rate_bps(10'000'000);
  auto status = set("c:eth0", rate);
  ASSERT_TRUE(status.ok()) << status.error_message();
  nslab::v1::Impairment delay;  // the wire's pipeline
  delay.set_delay_us(50'000);
  status = set("c:eth1", delay);
  ASSERT_TRUE(status.ok()) << status.error_message();

  daemon_->Stop(SIGKILL);
  daemon_->Restart();

  // Reported: the impairments in force are the ones set, not the topology's (none).
  chaos = nslab::v1::ChaosService::NewStub(daemon_->channel());
  nslab::v1::ListImpairmentsRequest list;
  list.set_lab(name);
  nslab::v1::ListImpairmentsResponse impairments;
  {
    grpc::ClientContext context;
    status = chaos->ListImpairments(&context, list, &impairments);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(impairments.links_size(), 2) << impairments.DebugString();
  EXPECT_EQ(impairments.links(0).a_to_b().rate_bps(), 10'000'000u);
  EXPECT_EQ(impairments.links(0).backend(), "kernel");
  EXPECT_EQ(impairments.links(1).a_to_b().delay_us(), 50'000u);
  EXPECT_EQ(impairments.links(1).backend(), "wire");

  // Applied: the kernel still shapes c's eth0 ...
  nslab::v1::QdiscsRequest qdiscs_request;
  qdiscs_request.set_lab(name);
  qdiscs_request.set_node("c");
  qdiscs_request.set_interface("eth0");
  nslab::v1::QdiscsResponse qdiscs;
  {
    grpc::ClientContext context;
    status = nslab::v1::DiagnosticsService::NewStub(daemon_->channel())
                 ->Qdiscs(&context, qdiscs_request, &qdiscs);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  bool tbf = false;
  for (const auto& qdisc : qdiscs.qdiscs()) {
    tbf = tbf || (qdisc.kind() == "tbf" && qdisc.parent() == "root");
  }
  EXPECT_TRUE(tbf) << qdiscs.DebugString();
  // ... and the re-attached wire still delays c -> s by 50 ms, so no echo comes back sooner.
  auto ping = daemon_->Exec(name, "c", {"ping", "-c1", "-W5", "10.0.1.2"});
  ASSERT_EQ(ping.code, 0) << ping.out << ping.err;
  std::smatch rtt;
  ASSERT_TRUE(std::regex_search(ping.out, rtt, std::regex("time=([0-9.]+) ms"))) << ping.out;
  EXPECT_GE(std::stod(rtt[1]), 50.0) << ping.out;
  EXPECT_TRUE(daemon_->Delete(name).ok());
}

TEST_F(LabRecoveryTest, TtlStillExpiresTheLabAfterARestart) {
  const std::string name = UniqueLabName("ttl");
  const HostSnapshot before = HostSnapshot::Take(name);
  LabGuard guard(daemon_, name);  // should it never expire
  ASSERT_TRUE(daemon_->CreateFromYaml("ttl: 3s\nnodes: {a: {}}\n", name).ok());
  daemon_->Stop(SIGKILL);
  // Still there when its daemon died, so whatever removes it now is the next daemon.
  ASSERT_TRUE(NamespaceExists(name + "-a")) << "the lab expired before the kill";
  ASSERT_TRUE(std::filesystem::exists(StatePath(name)));
  daemon_->Restart();
  WaitUntil("the TTL to delete lab " + name, [&]() -> std::string {
    return NamespaceExists(name + "-a") || std::filesystem::exists(StatePath(name))
               ? "its namespace or state file is still there"
               : "";
  });
  ExpectNothingLeftOf(name, before);
}

}  // namespace
}  // namespace nslab::testing
