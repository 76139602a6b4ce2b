#include "daemon/scenario/engine/executor.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/scenario_engine/fakes.h"

namespace nslab::scenario {
namespace {

using ::nslab::scenario::testing::Call;
using ::nslab::scenario::testing::CallLog;
using ::nslab::scenario::testing::FakeActions;
using ::nslab::scenario::testing::FakeProbes;
using ::nslab::scenario::testing::ParseScenario;
using ::nslab::scenario::testing::ProbeScript;
using ::nslab::scenario::testing::WithinWallLimit;
using nslab::v1::LabEvent;
using nslab::v1::ScenarioReport;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

struct Attempt {
  uint32_t at_ms;
  bool ok;
  bool operator==(const Attempt&) const = default;
};
std::ostream& operator<<(std::ostream& out, const Attempt& a) {
  return out << "{@" << a.at_ms << (a.ok ? " ok}" : " not ok}");
}

std::vector<Attempt> AttemptsOf(const nslab::v1::CheckResult& check) {
  std::vector<Attempt> attempts;
  for (const auto& attempt : check.attempts()) {
    attempts.push_back({attempt.at_ms(), attempt.ok()});
  }
  return attempts;
}

class ExecutorTest : public ::testing::Test {
 protected:
  ScenarioReport Run(const std::string& text, uint64_t seed = 1) {
    const nslab::v1::Scenario scenario = ParseScenario(text);
    return WithinWallLimit<ScenarioReport>([&] { return RunScenario(scenario, seed, env_); });
  }

  // (kind, subject, scenario_ms) of every event of `kind`.
  std::vector<std::tuple<std::string, uint32_t>> Events(nslab::v1::LabEventKind kind) {
    absl::MutexLock lock(&events_mu_);
    std::vector<std::tuple<std::string, uint32_t>> out;
    for (const LabEvent& event : events_) {
      if (event.kind() == kind) {
        out.emplace_back(event.subject(), event.scenario_ms());
      }
    }
    return out;
  }

  VirtualClock clock_;
  CallLog log_;
  Cancel cancel_;
  FakeActions actions_{clock_, log_, &cancel_};
  FakeProbes probes_{clock_, log_};
  absl::Mutex events_mu_;
  std::vector<LabEvent> events_;
  Environment env_{.clock = clock_,
                   .actions = actions_,
                   .probes = probes_,
                   .cancel = cancel_,
                   .on_event =
                       [this](const LabEvent& event) {
                         absl::MutexLock lock(&events_mu_);
                         events_.push_back(event);
                       },
                   .lab = "lab1"};
};

TEST_F(ExecutorTest, AppliesActionsAtTheirTimesAndUndoesThemAfterFor) {
  const ScenarioReport report = Run(R"pb(
    name: "undo"
    steps {
      at_ms: 1000
      for_ms: 2000
      action { exec { node: "a" } }
    }
    steps {
      at_ms: 1500
      for_ms: 100
      action { exec { node: "b" } }
    }
  )pb");
  EXPECT_TRUE(report.passed()) << report.DebugString();
  EXPECT_THAT(log_.calls(), ElementsAre(Call{"apply a", 1000}, Call{"apply b", 1500},
                                        Call{"undo b", 1600}, Call{"undo a", 3000}));
  EXPECT_THAT(Events(nslab::v1::LAB_EVENT_KIND_STEP_APPLIED),
              ElementsAre(std::tuple("steps[0]", 1000u), std::tuple("steps[1]", 1500u)));
  EXPECT_THAT(Events(nslab::v1::LAB_EVENT_KIND_STEP_UNDONE),
              ElementsAre(std::tuple("steps[1]", 1600u), std::tuple("steps[0]", 3000u)));
  ASSERT_EQ(report.steps_size(), 4);
  for (const auto& step : report.steps()) {
    EXPECT_EQ(step.actual_ms(), step.planned().planned_ms()) << step.DebugString();
    EXPECT_TRUE(step.ok());
  }
  EXPECT_EQ(report.steps(2).planned().kind(), nslab::v1::STEP_KIND_UNDO);
  EXPECT_EQ(report.steps(2).planned().path(), "steps[1]");
  EXPECT_EQ(report.duration_ms(), 3000u);
  EXPECT_EQ(report.lab(), "lab1");
  EXPECT_EQ(report.name(), "undo");
}

TEST_F(ExecutorTest, UndoesWhatIsStillAppliedAtTheEndInReverseOrder) {
  const ScenarioReport report = Run(R"pb(
    steps { action { exec { node: "a" } } }
    steps {
      at_ms: 100
      action { exec { node: "b" } }
    }
    steps {
      at_ms: 200
      for_ms: 50
      action { exec { node: "c" } }
    }
    steps {
      at_ms: 300
      action { exec { node: "d" } }
    }
  )pb");
  EXPECT_TRUE(report.passed());
  EXPECT_THAT(log_.Matching("undo"), ElementsAre(Call{"undo c", 250}, Call{"undo d", 300},
                                                 Call{"undo b", 300}, Call{"undo a", 300}));
}

TEST_F(ExecutorTest, ACancelStopsEverythingAndUndoesAllAppliedInReverseOrder) {
  probes_.Script("later", {});
  const ScenarioReport report = Run(R"pb(
    steps {
      for_ms: 10000
      action { exec { node: "a" } }
    }
    steps {
      at_ms: 100
      action { exec { node: "b" } }
    }
    steps {
      at_ms: 450
      action { exec { node: "cancel" } }
    }
    steps {
      at_ms: 400
      check { name: "running" tcp: "x:1" every_ms: 100 }
      for_ms: 5000
    }
    steps {
      at_ms: 5000
      check { name: "later" tcp: "x:1" }
    }
    steps {
      at_ms: 6000
      action { exec { node: "never" } }
    }
  )pb");
  EXPECT_FALSE(report.passed());
  EXPECT_THAT(report.error(), HasSubstr("cancelled"));
  EXPECT_THAT(log_.Matching("apply"),
              ElementsAre(Call{"apply a", 0}, Call{"apply b", 100}, Call{"apply cancel", 450}));
  EXPECT_THAT(log_.Matching("undo"), ElementsAre(Call{"undo b", 450}, Call{"undo a", 450}));
  ASSERT_EQ(report.checks_size(), 2);
  EXPECT_FALSE(report.checks(0).passed());
  EXPECT_THAT(report.checks(0).seen(), HasSubstr("cancelled"));
  EXPECT_THAT(AttemptsOf(report.checks(0)), ElementsAre(Attempt{400, true}));
  EXPECT_FALSE(report.checks(1).passed());
  EXPECT_THAT(report.checks(1).seen(), HasSubstr("not run"));
  EXPECT_EQ(report.duration_ms(), 450u);
}

TEST_F(ExecutorTest, AWithinCheckPassesOnItsThirdAttempt) {
  probes_.Script("web", {.outcomes = {false, false, true}});
  const ScenarioReport report = Run(R"pb(
    steps {
      at_ms: 1000
      check { name: "web" from: "client" tcp: "x:1" within_ms: 5000 }
    }
  )pb");
  EXPECT_TRUE(report.passed()) << report.DebugString();
  ASSERT_EQ(report.checks_size(), 1);
  const auto& check = report.checks(0);
  EXPECT_THAT(AttemptsOf(check),
              ElementsAre(Attempt{1000, false}, Attempt{1050, false}, Attempt{1100, true}));
  EXPECT_EQ(check.seen(), "connected");
  EXPECT_EQ(check.started_ms(), 1000u);
  EXPECT_EQ(check.duration_ms(), 100u);
  EXPECT_EQ(check.path(), "steps[0]");
  EXPECT_THAT(Events(nslab::v1::LAB_EVENT_KIND_CHECK_PASSED),
              ElementsAre(std::tuple("web", 1100u)));
}

TEST_F(ExecutorTest, AWithinCheckRetriesAfterSlowAttemptsAndFailsWhenTimeRunsOut) {
  // Each attempt hangs until its 300 ms timeout: attempts at 0, 300, 600, 900 (cut to 100 ms).
  probes_.Script("slow", {.outcomes = {false}, .takes = absl::Seconds(10)});
  const ScenarioReport report = Run(R"pb(
    steps { check { name: "slow" tcp: "x:1" within_ms: 1000 timeout_ms: 300 } }
  )pb");
  EXPECT_FALSE(report.passed());
  const auto& check = report.checks(0);
  EXPECT_THAT(AttemptsOf(check), ElementsAre(Attempt{0, false}, Attempt{300, false},
                                             Attempt{600, false}, Attempt{900, false}));
  EXPECT_EQ(check.attempts(3).duration_ms(), 100u);
  EXPECT_THAT(check.seen(), HasSubstr("not ok within 1000 ms"));
  EXPECT_EQ(check.duration_ms(), 1000u);
  EXPECT_THAT(Events(nslab::v1::LAB_EVENT_KIND_CHECK_FAILED),
              ElementsAre(std::tuple("slow", 1000u)));
}

TEST_F(ExecutorTest, AnEveryCheckFailsAtTheFirstDeviationAndStops) {
  probes_.Script("steady", {.outcomes = {true, true, true, true, false, true}});
  const ScenarioReport report = Run(R"pb(
    steps {
      at_ms: 200
      for_ms: 1000
      check { name: "steady" tcp: "x:1" every_ms: 100 }
    }
  )pb");
  EXPECT_FALSE(report.passed());
  const auto& check = report.checks(0);
  EXPECT_THAT(AttemptsOf(check),
              ElementsAre(Attempt{200, true}, Attempt{300, true}, Attempt{400, true},
                          Attempt{500, true}, Attempt{600, false}));
  EXPECT_EQ(check.seen(), "attempt 5 at 600 ms: refused");
  EXPECT_EQ(report.duration_ms(), 600u);
}

TEST_F(ExecutorTest, AnEveryCheckThatHoldsAttemptsThroughoutItsFor) {
  const ScenarioReport report = Run(R"pb(
    steps {
      for_ms: 1000
      check { name: "steady" tcp: "x:1" every_ms: 250 }
    }
  )pb");
  EXPECT_TRUE(report.passed());
  EXPECT_THAT(AttemptsOf(report.checks(0)), ElementsAre(Attempt{0, true}, Attempt{250, true},
                                                        Attempt{500, true}, Attempt{750, true}));
}

TEST_F(ExecutorTest, ExpectFailPassesWhenTheProbeFailsAndFailsWhenItSucceeds) {
  probes_.Script("blocked", {.outcomes = {false}});
  probes_.Script("open", {.outcomes = {true}});
  probes_.Script("blocked-eventually", {.outcomes = {true, true, false}});
  const ScenarioReport report = Run(R"pb(
    steps { check { name: "blocked" tcp: "x:1" expect: EXPECT_FAIL } }
    steps { check { name: "open" tcp: "x:1" expect: EXPECT_FAIL } }
    steps { check { name: "blocked-eventually" tcp: "x:1" expect: EXPECT_FAIL within_ms: 500 } }
  )pb");
  ASSERT_EQ(report.checks_size(), 3);
  EXPECT_TRUE(report.checks(0).passed());
  EXPECT_EQ(report.checks(0).seen(), "refused");
  EXPECT_FALSE(report.checks(1).passed());
  EXPECT_EQ(report.checks(1).seen(), "connected");
  EXPECT_TRUE(report.checks(2).passed());
  EXPECT_EQ(report.checks(2).attempts_size(), 3);
  EXPECT_FALSE(report.passed());
}

TEST_F(ExecutorTest, SerialMembersWaitForThePreviousMemberToEnd) {
  // "slow-a" takes 700 ms to apply, past its planned end (0): the next member starts 50 ms
  // after it really ended, not at its planned 50; the one after that follows b's undo.
  const ScenarioReport report = Run(R"pb(
    steps {
      serial {
        steps { action { exec { node: "slow-a" } } }
        steps {
          at_ms: 50
          for_ms: 100
          action { exec { node: "b" } }
        }
        steps {
          at_ms: 10
          action { exec { node: "c" } }
        }
      }
    }
  )pb");
  EXPECT_THAT(log_.calls(),
              ElementsAre(Call{"apply slow-a", 0}, Call{"apply b", 750}, Call{"undo b", 850},
                          Call{"apply c", 860}, Call{"undo c", 860}, Call{"undo slow-a", 860}));
  std::vector<std::tuple<std::string, uint32_t, uint32_t>> applied;
  for (const auto& step : report.steps()) {
    if (step.planned().kind() == nslab::v1::STEP_KIND_ACTION) {
      applied.emplace_back(step.planned().path(), step.planned().planned_ms(), step.actual_ms());
    }
  }
  EXPECT_THAT(applied, ElementsAre(std::tuple("steps[0].serial[0]", 0u, 0u),
                                   std::tuple("steps[0].serial[1]", 50u, 750u),
                                   std::tuple("steps[0].serial[2]", 160u, 860u)));
}

TEST_F(ExecutorTest, ParallelMembersRunTogetherAndTheGroupEndsWithTheLast) {
  probes_.Script("slow", {.outcomes = {true}, .takes = absl::Milliseconds(800)});
  const ScenarioReport report = Run(R"pb(
    steps {
      serial {
        steps {
          at_ms: 100
          parallel {
            steps { check { name: "slow" tcp: "x:1" } }
            steps {
              at_ms: 200
              for_ms: 100
              action { exec { node: "a" } }
            }
          }
        }
        steps { action { exec { node: "b" } } }
      }
    }
  )pb");
  EXPECT_TRUE(report.passed()) << report.DebugString();
  EXPECT_THAT(log_.calls(),
              ElementsAre(Call{"baseline slow", 0}, Call{"attempt slow", 100}, Call{"apply a", 300},
                          Call{"undo a", 400}, Call{"apply b", 900}, Call{"undo b", 900}));
}

TEST_F(ExecutorTest, ASlowProbeDoesNotDelayAnActionPlannedDuringIt) {
  probes_.Script("hangs", {.outcomes = {false}, .takes = absl::Seconds(5)});
  const ScenarioReport report = Run(R"pb(
    steps { check { name: "hangs" tcp: "x:1" timeout_ms: 5000 } }
    steps {
      at_ms: 1000
      for_ms: 1000
      action { exec { node: "a" } }
    }
    steps {
      at_ms: 1500
      action { exec { node: "slow-b" } }
    }
    steps {
      at_ms: 1600
      action { exec { node: "c" } }
    }
  )pb");
  EXPECT_THAT(log_.Matching("apply"), ElementsAre(Call{"apply a", 1000}, Call{"apply slow-b", 1500},
                                                  Call{"apply c", 1600}));
  EXPECT_THAT(log_.Matching("undo a"), ElementsAre(Call{"undo a", 2000}));
  EXPECT_EQ(report.checks(0).duration_ms(), 5000u);
  EXPECT_EQ(report.checks(0).seen(), "refused");
}

TEST_F(ExecutorTest, PlaysASixtySecondScenarioOnVirtualTime) {
  std::string text = R"pb(
    name: "minute"
    steps {
      for_ms: 60000
      check { name: "steady" tcp: "x:1" every_ms: 100 }
    }
  )pb";
  for (int second = 0; second < 60; second += 5) {
    absl::StrAppend(&text, "steps { at_ms: ", second * 1000,
                    " for_ms: 2000 jitter_ms: 500 action { exec { node: \"n", second, "\" } } }\n");
  }
  const ScenarioReport report = Run(text, 77);
  EXPECT_TRUE(report.passed());
  EXPECT_EQ(report.duration_ms(), 60000u);
  EXPECT_EQ(report.checks(0).attempts_size(), 600);
  EXPECT_EQ(report.checks(0).attempts(599).at_ms(), 59900u);
  EXPECT_EQ(log_.Matching("apply").size(), 12u);
  EXPECT_EQ(log_.Matching("undo").size(), 12u);
  for (const auto& step : report.steps()) {
    EXPECT_EQ(step.actual_ms(), step.planned().planned_ms()) << step.planned().path();
  }
  EXPECT_EQ(report.seed(), 77u);
}

TEST_F(ExecutorTest, AFailedActionDoesNotStopTheScenarioButFailsIt) {
  const ScenarioReport report = Run(R"pb(
    steps {
      for_ms: 100
      action { exec { node: "fail-a" } }
    }
    steps {
      at_ms: 500
      action { exec { node: "b" } }
    }
    steps {
      at_ms: 600
      check { name: "ok" tcp: "x:1" }
    }
  )pb");
  EXPECT_FALSE(report.passed());
  EXPECT_TRUE(report.checks(0).passed());
  EXPECT_THAT(log_.Matching("apply"), ElementsAre(Call{"apply fail-a", 0}, Call{"apply b", 500}));
  EXPECT_THAT(Events(nslab::v1::LAB_EVENT_KIND_STEP_FAILED),
              ElementsAre(std::tuple("steps[0]", 0u)));
  EXPECT_THAT(report.steps(0).error(), HasSubstr("told to fail"));
  EXPECT_TRUE(report.error().empty());
}

TEST_F(ExecutorTest, ACheckThatCannotBeMadeFailsTheRunBeforeAnyAction) {
  const ScenarioReport report = Run(R"pb(
    steps { action { exec { node: "a" } } }
    steps {
      at_ms: 100
      check { name: "web" from: "missing" tcp: "x:1" }
    }
  )pb");
  EXPECT_FALSE(report.passed());
  EXPECT_THAT(report.error(), HasSubstr("steps[1] (check web): the lab has no node \"missing\""));
  EXPECT_THAT(log_.calls(), IsEmpty());
  absl::MutexLock lock(&events_mu_);
  EXPECT_EQ(events_.size(), 0u);
}

TEST_F(ExecutorTest, BaselinesAreReadBeforeTheFirstStepAndEventsFrameTheRun) {
  const ScenarioReport report = Run(R"pb(
    steps {
      at_ms: 10
      check { name: "two" tcp: "x:1" }
    }
    steps { check { name: "one" tcp: "x:1" } }
    steps { action { exec { node: "a" } } }
  )pb");
  const std::vector<Call> calls = log_.calls();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_THAT(std::vector<Call>(calls.begin(), calls.begin() + 2),
              ElementsAre(Call{"baseline two", 0}, Call{"baseline one", 0}));
  absl::MutexLock lock(&events_mu_);
  ASSERT_GE(events_.size(), 2u);
  EXPECT_EQ(events_.front().kind(), nslab::v1::LAB_EVENT_KIND_SCENARIO_STARTED);
  EXPECT_EQ(events_.back().kind(), nslab::v1::LAB_EVENT_KIND_SCENARIO_ENDED);
  EXPECT_EQ(events_.back().scenario_ms(), report.duration_ms());
  for (const LabEvent& event : events_) {
    EXPECT_EQ(event.lab(), "lab1");
  }
  // Checks in file order; steps in the order they happened (ties: planned time, then path).
  ASSERT_EQ(report.checks_size(), 2);
  EXPECT_EQ(report.checks(0).name(), "two");
  std::vector<std::tuple<std::string, nslab::v1::StepKind, uint32_t>> steps;
  for (const auto& step : report.steps()) {
    steps.emplace_back(step.planned().path(), step.planned().kind(), step.actual_ms());
  }
  EXPECT_THAT(steps, ElementsAre(std::tuple("steps[1]", nslab::v1::STEP_KIND_CHECK, 0u),
                                 std::tuple("steps[2]", nslab::v1::STEP_KIND_ACTION, 0u),
                                 std::tuple("steps[0]", nslab::v1::STEP_KIND_CHECK, 10u),
                                 std::tuple("steps[2]", nslab::v1::STEP_KIND_UNDO, 10u)));
}

TEST_F(ExecutorTest, SameSeedSameTimelineWhenPlayed) {
  const char* text = R"pb(
    steps {
      at_ms: 100
      jitter_ms: 900
      action { exec { node: "a" } }
    }
    steps {
      at_ms: 100
      jitter_ms: 900
      action { exec { node: "b" } }
    }
  )pb";
  const ScenarioReport first = Run(text, 5);
  const std::vector<Call> first_calls = log_.calls();
  VirtualClock second_clock;
  CallLog second_log;
  FakeActions second_actions(second_clock, second_log);
  Environment second_env{
      .clock = second_clock, .actions = second_actions, .probes = probes_, .cancel = cancel_};
  const nslab::v1::Scenario scenario = ParseScenario(text);
  const ScenarioReport second =
      WithinWallLimit<ScenarioReport>([&] { return RunScenario(scenario, 5, second_env); });
  EXPECT_THAT(second_log.calls(),
              UnorderedElementsAre(first_calls[0], first_calls[1], first_calls[2], first_calls[3]));
  EXPECT_EQ(first.duration_ms(), second.duration_ms());
}

}  // namespace
}  // namespace nslab::scenario
