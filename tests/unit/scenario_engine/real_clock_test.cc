#include "daemon/scenario/engine/clock.h"

#include "daemon/scenario/engine/executor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/scenario_engine/fakes.h"

namespace nslab::scenario {
namespace {

using ::nslab::scenario::testing::ParseScenario;
using ::nslab::scenario::testing::WithinWallLimit;

TEST(RealClock, NeverWakesBeforeTheDeadline) {
  RealClock clock;
  Cancel never;
  for (int i = 0; i < 20; ++i) {
    const absl::Time deadline = clock.Now() + absl::Microseconds(100 * i);
    ASSERT_TRUE(clock.SleepUntil(deadline, never));
    EXPECT_GE(clock.Now(), deadline);
  }
}

TEST(RealClock, ACancelEndsALongSleep) {
  RealClock clock;
  Cancel cancel;
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(5));
    cancel.Request();
  });
  const bool reached =
      WithinWallLimit<bool>([&] { return clock.SleepUntil(clock.Now() + absl::Hours(1), cancel); });
  canceller.join();
  EXPECT_FALSE(reached);
  EXPECT_FALSE(clock.SleepUntil(clock.Now() + absl::Hours(1), cancel));  // already requested
}

// Plays a short scenario on real time: no step starts before its planned offset.
TEST(RealClock, PlaysAScenarioWithNoStepEarly) {
  RealClock clock;
  Cancel cancel;
  testing::CallLog log;
  testing::FakeActions actions(clock, log);
  testing::FakeProbes probes(clock, log);
  Environment env{.clock = clock, .actions = actions, .probes = probes, .cancel = cancel};
  const nslab::v1::Scenario scenario = ParseScenario(R"pb(
    steps {
      at_ms: 5
      for_ms: 10
      action { exec { node: "a" } }
    }
    steps {
      at_ms: 20
      check { name: "up" tcp: "x:1" within_ms: 100 }
    }
    steps {
      at_ms: 25
      jitter_ms: 10
      action { exec { node: "b" } }
    }
  )pb");
  const nslab::v1::ScenarioReport report =
      WithinWallLimit<nslab::v1::ScenarioReport>([&] { return RunScenario(scenario, 3, env); });
  EXPECT_TRUE(report.passed()) << report.DebugString();
  ASSERT_EQ(report.steps_size(), 5);
  for (const auto& step : report.steps()) {
    // b's undo comes at the scenario's end, which is earlier than planned when the `within`
    // check passes before its time is up.
    if (step.planned().kind() == nslab::v1::STEP_KIND_UNDO && step.planned().path() == "steps[2]") {
      continue;
    }
    EXPECT_GE(step.actual_ms(), step.planned().planned_ms()) << step.DebugString();
  }
}

}  // namespace
}  // namespace nslab::scenario
