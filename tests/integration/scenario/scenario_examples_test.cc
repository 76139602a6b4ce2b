// Every example scenario in scenarios/ passes against the lab it was written for.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "daemon/scenario/spec/yaml_reader.h"
#include "nslab/v1/scenario.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

class ScenarioExamplesTest : public DaemonSuite<::testing::TestWithParam<std::string>> {};

// Every check that failed, with what it expected and saw, and every failed step.
std::string Failures(const nslab::v1::ScenarioReport& report) {
  std::string text = report.error();
  for (const auto& check : report.checks()) {
    if (!check.passed()) {
      absl::StrAppend(&text, "\n  check ", check.name(), ": expected ", check.expected(), "; seen ",
                      check.seen());
    }
  }
  for (const auto& step : report.steps()) {
    if (!step.ok()) {
      absl::StrAppend(&text, "\n  step ", step.planned().path(), ": ", step.error());
    }
  }
  return text;
}

TEST_P(ScenarioExamplesTest, PassesAgainstItsLab) {
  auto scenario =
      scenario::ReadScenarioYaml(ReadSourceFile(absl::StrCat("scenarios/", GetParam(), ".yaml")));
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  const std::string lab = UniqueLabName("scn");
  LabGuard guard(daemon_, lab);
  auto created = daemon_->CreateFromYaml(ReadSourceFile("topologies/web-pair.yaml"), lab);
  ASSERT_TRUE(created.ok()) << created.error_message();

  auto stub = nslab::v1::ScenarioService::NewStub(daemon_->channel());
  nslab::v1::RunScenarioRequest request;
  request.set_lab(lab);
  *request.mutable_scenario() = *scenario;
  grpc::ClientContext context;
  auto reader = stub->RunScenario(&context, request);
  nslab::v1::RunScenarioResponse response;
  std::optional<nslab::v1::ScenarioReport> report;
  int events = 0;
  while (reader->Read(&response)) {
    if (response.has_report()) {
      report = response.report();
    } else {
      ++events;
    }
  }
  auto status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->passed()) << Failures(*report);
  EXPECT_EQ(report->checks_size(), [&] {
    int checks = 0;
    std::function<void(const google::protobuf::RepeatedPtrField<nslab::v1::Step>&)> count =
        [&](const auto& steps) {
          for (const auto& step : steps) {
            checks += step.has_check() ? 1 : 0;
            count(step.parallel().steps());
            count(step.serial().steps());
          }
        };
    count(scenario->steps());
    return checks;
  }());
  EXPECT_GT(events, 0) << "the stream carries the scenario's events";
}

INSTANTIATE_TEST_SUITE_P(Examples, ScenarioExamplesTest,
                         ::testing::Values("partition-failover", "lossy-retry-budget",
                                           "flapping-wan", "process-kill-restart"));

}  // namespace
}  // namespace nslab::testing
