// ScenarioService against a real lab: refusals change nothing, what a scenario applied is
// undone when it ends, plans are deterministic, events reach watchers.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>

#include "daemon/scenario/spec/yaml_reader.h"
#include "nslab/v1/chaos.grpc.pb.h"
#include "nslab/v1/labs.grpc.pb.h"
#include "nslab/v1/scenario.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTwoHosts[] = R"(
nodes: {client: {}, server: {}}
links: [{a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}]
)";

nslab::v1::Scenario Parse(const std::string& yaml) {
  auto scenario = scenario::ReadScenarioYaml(yaml);
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  return scenario.ok() ? *scenario : nslab::v1::Scenario();
}

class ScenarioServiceTest : public DaemonSuite<> {
 protected:
  void SetUp() override {
    lab_ = UniqueLabName("scnsvc");
    guard_ = std::make_unique<LabGuard>(daemon_, lab_);
    auto status = daemon_->CreateFromYaml(kTwoHosts, lab_);
    ASSERT_TRUE(status.ok()) << status.error_message();
    scenarios_ = nslab::v1::ScenarioService::NewStub(daemon_->channel());
    chaos_ = nslab::v1::ChaosService::NewStub(daemon_->channel());
  }

  struct Played {
    grpc::Status status;
    std::optional<nslab::v1::ScenarioReport> report;
    std::vector<nslab::v1::LabEvent> events;
  };
  Played Play(const nslab::v1::Scenario& scenario, const std::string& lab = "") {
    nslab::v1::RunScenarioRequest request;
    request.set_lab(lab.empty() ? lab_ : lab);
    *request.mutable_scenario() = scenario;
    grpc::ClientContext context;
    auto reader = scenarios_->RunScenario(&context, request);
    Played played;
    nslab::v1::RunScenarioResponse response;
    while (reader->Read(&response)) {
      if (response.has_report()) {
        played.report = response.report();
      } else {
        played.events.push_back(response.event());
      }
    }
    played.status = reader->Finish();
    return played;
  }

  std::string Firewall(const std::string& node) {
    nslab::v1::GetFirewallRequest request;
    request.set_lab(lab_);
    request.set_node(node);
    nslab::v1::GetFirewallResponse response;
    grpc::ClientContext context;
    auto status = chaos_->GetFirewall(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.firewall().ruleset();
  }

  std::string lab_;
  std::unique_ptr<LabGuard> guard_;
  std::unique_ptr<nslab::v1::ScenarioService::Stub> scenarios_;
  std::unique_ptr<nslab::v1::ChaosService::Stub> chaos_;
};

TEST_F(ScenarioServiceTest, ANameTheLabLacksIsRefusedBeforeAnyStepRuns) {
  const std::string before = Firewall("client");
  auto played = Play(Parse(R"(
name: missing-node
steps:
  - {at: 0s, partition: {groups: [[client], [server]]}}
  - {at: 100ms, kill: {node: web3}}
)"));
  EXPECT_EQ(played.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(played.status.error_message(), HasSubstr("web3"));
  EXPECT_FALSE(played.report.has_value());
  EXPECT_EQ(Firewall("client"), before) << "the partition step must not have run";
}

TEST_F(ScenarioServiceTest, AnInvalidScenarioIsInvalidArgument) {
  nslab::v1::Scenario scenario;
  scenario.set_name("no-steps");
  auto played = Play(scenario);
  EXPECT_EQ(played.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(played.status.error_message(), HasSubstr("steps"));
}

TEST_F(ScenarioServiceTest, AnUnknownLabIsNotFound) {
  nslab::v1::RunScenarioRequest request;
  request.set_lab("no-such-lab-scn");
  *request.mutable_scenario() = Parse("{name: x, steps: [{at: 0s, heal: {}}]}");
  grpc::ClientContext context;
  auto reader = scenarios_->RunScenario(&context, request);
  nslab::v1::RunScenarioResponse response;
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ScenarioServiceTest, WhatTheScenarioAppliedIsUndoneWhenItEnds) {
  const std::string before = Firewall("client");
  auto played = Play(Parse(R"(
name: leaves-no-trace
steps:
  - {at: 0s, partition: {groups: [[client], [server]], mode: reject}}
  - {at: 100ms, check: {name: cut, from: client, tcp: "10.0.0.2:22", timeout: 300ms, expect: fail}}
  - at: 200ms
    firewall:
      node: server
      ruleset: |
        table inet scenario_t {
          chain input { type filter hook input priority 0; policy accept; }
        }
)"));
  ASSERT_TRUE(played.status.ok()) << played.status.error_message();
  ASSERT_TRUE(played.report.has_value());
  EXPECT_TRUE(played.report->passed()) << played.report->DebugString();
  EXPECT_EQ(Firewall("client"), before) << "the partition must be healed at the end";
  EXPECT_THAT(Firewall("server"), ::testing::Not(HasSubstr("scenario_t")))
      << "the firewall step must be undone at the end";
}

// An apply step changes the lab for its `for:` and the undo applies the lab's topology again.
TEST_F(ScenarioServiceTest, AnApplyStepGrowsTheLabAndItsUndoShrinksItBack) {
  auto played = Play(Parse(R"(
name: grows
steps:
  - at: 0s
    for: 1s
    apply:
      topology:
        nodes: {client: {}, server: {}, extra: {}}
        links:
          - {a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
          - {a: server:eth1, b: extra:eth0, a_addr: 10.0.9.1/24, b_addr: 10.0.9.2/24}
  - {at: 200ms, check: {name: extra-answers, from: server, ping: 10.0.9.2}}
)"));
  ASSERT_TRUE(played.status.ok()) << played.status.error_message();
  ASSERT_TRUE(played.report.has_value());
  EXPECT_TRUE(played.report->passed()) << played.report->DebugString();
  for (const auto& step : played.report->steps()) {
    if (step.planned().path() == "steps[0]" && step.planned().kind() != nslab::v1::STEP_KIND_UNDO) {
      EXPECT_THAT(step.detail(), HasSubstr("+ node extra")) << step.DebugString();
    }
  }
  nslab::v1::GetLabRequest request;
  request.set_name(lab_);
  request.set_view(nslab::v1::LAB_VIEW_BASIC);
  nslab::v1::GetLabResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(daemon_->labs().GetLab(&context, request, &response).ok());
  EXPECT_EQ(response.lab().nodes_size(), 2) << "the undo removes the node the step added";
  EXPECT_NE(daemon_->Exec(lab_, "server", {"ip", "link", "show", "eth1"}).code, 0);
}

TEST_F(ScenarioServiceTest, AnExecActionRecordsItsExitCode) {
  auto played = Play(Parse(R"(
name: exec-code
steps:
  - {at: 0s, exec: {node: client, cmd: "echo hello; exit 3"}}
  - {at: 0s, check: {name: true-is-ok, from: server, exec: [sh, -c, "exit 0"]}}
)"));
  ASSERT_TRUE(played.status.ok()) << played.status.error_message();
  ASSERT_TRUE(played.report.has_value());
  bool found = false;
  for (const auto& step : played.report->steps()) {
    if (step.planned().path() == "steps[0]") {
      found = true;
      EXPECT_THAT(step.detail(), HasSubstr("exit 3"));
      EXPECT_THAT(step.detail(), HasSubstr("hello"));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ScenarioServiceTest, AFailingCheckSaysWhatItExpectedAndSaw) {
  auto played = Play(Parse(R"(
name: wrong
steps:
  - {at: 0s, check: {name: nothing-listens, from: client, tcp: "10.0.0.2:9", within: 300ms}}
)"));
  ASSERT_TRUE(played.status.ok()) << played.status.error_message();
  ASSERT_TRUE(played.report.has_value());
  EXPECT_FALSE(played.report->passed());
  ASSERT_EQ(played.report->checks_size(), 1);
  const auto& check = played.report->checks(0);
  EXPECT_FALSE(check.passed());
  EXPECT_THAT(check.seen(), HasSubstr("refused"));
  EXPECT_GE(check.attempts_size(), 2) << "within: retries until its time is up";
}

TEST_F(ScenarioServiceTest, PlansAreTheSameForTheSameSeedAndNamesAreCheckedAgainstATopology) {
  const auto scenario = Parse(R"(
name: jittery
seed: 9
steps:
  - {at: 1s, jitter: 500ms, link_down: {link: client:eth0}, for: 1s}
  - {at: 2s, jitter: 500ms, heal: {}}
)");
  nslab::v1::PlanScenarioRequest request;
  request.set_lab(lab_);
  *request.mutable_scenario() = scenario;
  nslab::v1::PlanScenarioResponse first;
  nslab::v1::PlanScenarioResponse second;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(scenarios_->PlanScenario(&context, request, &first).ok());
  }
  {
    grpc::ClientContext context;
    ASSERT_TRUE(scenarios_->PlanScenario(&context, request, &second).ok());
  }
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
  EXPECT_EQ(first.seed(), 9u);
  ASSERT_GE(first.steps_size(), 3);  // down, undo, heal

  nslab::v1::PlanScenarioRequest against_topology;
  *against_topology.mutable_scenario() =
      Parse("{name: t, steps: [{at: 0s, link_down: {link: 'ghost:eth0'}}]}");
  against_topology.mutable_topology()->set_name("t");
  against_topology.mutable_topology()->add_nodes()->set_name("client");
  grpc::ClientContext context;
  nslab::v1::PlanScenarioResponse refused;
  auto status = scenarios_->PlanScenario(&context, against_topology, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("ghost:eth0"));
}

TEST_F(ScenarioServiceTest, AUstackFaultActionBreaksTheParticipantUntilItsForEnds) {
  const std::string lab = UniqueLabName("scnfault");
  LabGuard guard(daemon_, lab);
  auto created = daemon_->CreateFromYaml(R"(
nodes: {client: {}, web: {kind: ustack, services: [{tcp: 80, app: http}]}}
links: [{a: client:eth0, b: web:eth0, a_addr: 10.9.0.1/24, b_addr: 10.9.0.2/24}]
)",
                                         lab);
  ASSERT_TRUE(created.ok()) << created.error_message();
  auto played = Play(Parse(R"(
name: participant-refuses
steps:
  - {at: 0s, ustack_fault: {node: web, port: 80, mode: refuse}, for: 1s}
  - {at: 200ms, check: {name: refused, from: client, tcp: "10.9.0.2:80", timeout: 500ms, expect: fail}}
  - {at: 1200ms, check: {name: served-again, from: client, http: "http://10.9.0.2/", within: 3s}}
)"),
                     lab);
  ASSERT_TRUE(played.status.ok()) << played.status.error_message();
  ASSERT_TRUE(played.report.has_value());
  EXPECT_TRUE(played.report->passed()) << played.report->DebugString();
  ASSERT_EQ(played.report->checks_size(), 2);
  EXPECT_THAT(played.report->checks(0).seen(), HasSubstr("refused"))
      << "the stack answers the SYN with a RST: refused at once, not timed out";
  nslab::v1::UstackStats stats;
  ASSERT_TRUE(daemon_->UstackStats(lab, "web", &stats).ok());
  EXPECT_EQ(stats.faults_size(), 0) << "the fault is cleared after its for";
}

TEST_F(ScenarioServiceTest, WatchersSeeTheScenariosSteps) {
  grpc::ClientContext watch_context;
  nslab::v1::WatchEventsRequest watch;
  watch.set_lab(lab_);
  auto labs = nslab::v1::LabsService::NewStub(daemon_->channel());
  auto reader = labs->WatchEvents(&watch_context, watch);
  nslab::v1::WatchEventsResponse armed;
  ASSERT_TRUE(reader->Read(&armed));
  ASSERT_EQ(armed.event().kind(), nslab::v1::LAB_EVENT_KIND_UNSPECIFIED);

  auto played = Play(Parse("{name: watched, steps: [{at: 0s, heal: {}}]}"));
  ASSERT_TRUE(played.status.ok()) << played.status.error_message();
  std::vector<nslab::v1::LabEventKind> kinds;
  nslab::v1::WatchEventsResponse event;
  while (reader->Read(&event)) {
    kinds.push_back(event.event().kind());
    if (event.event().kind() == nslab::v1::LAB_EVENT_KIND_SCENARIO_ENDED) {
      break;
    }
  }
  watch_context.TryCancel();
  (void)reader->Finish();
  EXPECT_THAT(kinds, ::testing::Contains(nslab::v1::LAB_EVENT_KIND_SCENARIO_STARTED));
  EXPECT_THAT(kinds, ::testing::Contains(nslab::v1::LAB_EVENT_KIND_STEP_APPLIED));
  EXPECT_THAT(kinds, ::testing::Contains(nslab::v1::LAB_EVENT_KIND_SCENARIO_ENDED));
}

}  // namespace
}  // namespace nslab::testing
