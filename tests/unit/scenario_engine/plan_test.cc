#include "daemon/scenario/engine/plan.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/scenario_engine/fakes.h"

namespace nslab::scenario {
namespace {

using ::nslab::scenario::testing::ParseScenario;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Point {
  std::string path;
  nslab::v1::StepKind kind;
  uint32_t planned_ms;
  bool operator==(const Point&) const = default;
};
std::ostream& operator<<(std::ostream& out, const Point& p) {
  return out << "{" << p.path << " " << nslab::v1::StepKind_Name(p.kind) << " @" << p.planned_ms
             << "}";
}

std::vector<Point> Points(const std::vector<nslab::v1::PlannedStep>& plan) {
  std::vector<Point> points;
  for (const auto& step : plan) {
    points.push_back({step.path(), step.kind(), step.planned_ms()});
  }
  return points;
}

std::vector<nslab::v1::PlannedStep> Plan(const std::string& text, uint64_t seed = 1) {
  absl::StatusOr<std::vector<nslab::v1::PlannedStep>> plan =
      PlanScenario(ParseScenario(text), seed);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *plan : std::vector<nslab::v1::PlannedStep>{};
}

constexpr nslab::v1::StepKind kAction = nslab::v1::STEP_KIND_ACTION;
constexpr nslab::v1::StepKind kUndo = nslab::v1::STEP_KIND_UNDO;
constexpr nslab::v1::StepKind kCheck = nslab::v1::STEP_KIND_CHECK;

const char kJittery[] = R"pb(
  steps {
    at_ms: 100
    jitter_ms: 1000
    action { exec { node: "a" } }
  }
  steps {
    at_ms: 200
    jitter_ms: 1000
    for_ms: 50
    action { exec { node: "b" } }
  }
  steps {
    at_ms: 300
    jitter_ms: 1000
    check { name: "c" tcp: "10.0.0.1:80" }
  }
  steps {
    at_ms: 400
    jitter_ms: 1000
    serial {
      steps {
        jitter_ms: 500
        action { exec { node: "d" } }
      }
    }
  }
)pb";

TEST(PlanScenario, SameScenarioAndSeedGiveTheSamePlan) {
  const std::vector<nslab::v1::PlannedStep> first = Plan(kJittery, 42);
  const std::vector<nslab::v1::PlannedStep> second = Plan(kJittery, 42);
  ASSERT_EQ(first.size(), 5u);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].SerializeAsString(), second[i].SerializeAsString()) << i;
  }
}

TEST(PlanScenario, DifferentSeedsDrawDifferentJitter) {
  const std::vector<nslab::v1::PlannedStep> one = Plan(kJittery, 1);
  const std::vector<nslab::v1::PlannedStep> two = Plan(kJittery, 2);
  std::multiset<uint32_t> jitter_one, jitter_two;
  for (const auto& step : one) jitter_one.insert(step.jitter_ms());
  for (const auto& step : two) jitter_two.insert(step.jitter_ms());
  EXPECT_NE(jitter_one, jitter_two);
}

TEST(PlanScenario, JitterIsAddedToAtAndStaysWithinItsBound) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    for (const auto& step : Plan(kJittery, seed)) {
      EXPECT_LE(step.jitter_ms(), step.path() == "steps[3].serial[0]" ? 1500u : 1000u);
      if (step.path() == "steps[0]") {
        EXPECT_EQ(step.planned_ms(), 100 + step.jitter_ms());
      }
    }
  }
}

TEST(DrawJitter, IsUniformEnoughToReachBothEnds) {
  uint64_t sum = 0;
  std::set<uint32_t> seen;
  for (uint64_t seed = 0; seed < 4000; ++seed) {
    const uint32_t jitter = DrawJitter(seed, "steps[0]", 3);
    ASSERT_LE(jitter, 3u);
    seen.insert(jitter);
    sum += jitter;
  }
  EXPECT_EQ(seen, (std::set<uint32_t>{0, 1, 2, 3}));
  EXPECT_NEAR(static_cast<double>(sum) / 4000, 1.5, 0.1);
  EXPECT_EQ(DrawJitter(7, "steps[0]", 0), 0u);
}

TEST(PlanScenario, EditingOneStepDoesNotShiftAnotherStepsJitter) {
  const std::vector<nslab::v1::PlannedStep> before = Plan(kJittery, 9);
  // steps[0] moved and given another jitter bound; a step appended at the end.
  nslab::v1::Scenario edited = ParseScenario(kJittery);
  edited.mutable_steps(0)->set_at_ms(900);
  edited.mutable_steps(0)->set_jitter_ms(7);
  *edited.add_steps() = edited.steps(0);
  absl::StatusOr<std::vector<nslab::v1::PlannedStep>> after_or = PlanScenario(edited, 9);
  ASSERT_TRUE(after_or.ok()) << after_or.status();
  const std::vector<nslab::v1::PlannedStep>& after = *after_or;
  auto jitter_of = [](const std::vector<nslab::v1::PlannedStep>& plan, const std::string& path) {
    for (const auto& step : plan) {
      if (step.path() == path) return step.jitter_ms();
    }
    ADD_FAILURE() << "no " << path;
    return 0u;
  };
  for (const char* path : {"steps[1]", "steps[2]", "steps[3].serial[0]"}) {
    EXPECT_EQ(jitter_of(before, path), jitter_of(after, path)) << path;
  }
}

TEST(PlanScenario, SerialMembersFollowThePreviousMembersEnd) {
  const auto plan = Plan(R"pb(
    steps {
      at_ms: 1000
      serial {
        steps {
          at_ms: 100
          for_ms: 2000
          action { exec { node: "a" } }
        }
        steps {
          at_ms: 50
          check { name: "one-shot" tcp: "x:1" }
        }
        steps {
          check {
            name: "exec"
            exec { argv: "true" }
          }
        }
        steps { check { name: "within" tcp: "x:1" within_ms: 3000 } }
        steps {
          for_ms: 500
          check { name: "every" tcp: "x:1" every_ms: 100 }
        }
        steps {
          at_ms: 7
          action { exec { node: "b" } }
        }
      }
    }
  )pb");
  // a: 1100..3100; one-shot: 3150; exec and within: 3150 too (a check is planned to decide at
  // once: its timeout or within is how late it may end, not how long it holds the group up);
  // every: 3150 (+500 ms, its fixed length); b: 3657.
  EXPECT_THAT(Points(plan), ElementsAre(Point{"steps[0].serial[0]", kAction, 1100},
                                        Point{"steps[0].serial[0]", kUndo, 3100},
                                        Point{"steps[0].serial[1]", kCheck, 3150},
                                        Point{"steps[0].serial[2]", kCheck, 3150},
                                        Point{"steps[0].serial[3]", kCheck, 3150},
                                        Point{"steps[0].serial[4]", kCheck, 3150},
                                        Point{"steps[0].serial[5]", kAction, 3657}));
}

TEST(PlanScenario, ParallelMembersStartFromTheGroupsStartAndTheGroupEndsWithTheLast) {
  absl::StatusOr<std::vector<TimedStep>> timeline =
      TimeScenario(ParseScenario(R"pb(
                     steps {
                       at_ms: 500
                       parallel {
                         steps {
                           at_ms: 300
                           check { name: "late" tcp: "x:1" timeout_ms: 200 }
                         }
                         steps {
                           for_ms: 4000
                           action { exec { node: "a" } }
                         }
                         steps {
                           at_ms: 100
                           action { exec { node: "b" } }
                         }
                       }
                     }
                     steps {
                       serial {
                         steps {
                           parallel {
                             steps {
                               at_ms: 10
                               for_ms: 90
                               action { exec { node: "c" } }
                             }
                           }
                         }
                         steps {
                           at_ms: 1
                           action { exec { node: "d" } }
                         }
                       }
                     }
                   )pb"),
                   3);
  ASSERT_TRUE(timeline.ok()) << timeline.status();
  EXPECT_EQ((*timeline)[0].end_ms, 4500u);
  EXPECT_EQ((*timeline)[1].end_ms, 101u);
  EXPECT_EQ(PlannedEndMs(*timeline), 4500u);
  EXPECT_THAT(Points(FlattenPlan(*timeline)),
              ElementsAre(Point{"steps[1].serial[0].parallel[0]", kAction, 10},
                          Point{"steps[1].serial[0].parallel[0]", kUndo, 100},
                          Point{"steps[1].serial[1]", kAction, 101},
                          Point{"steps[0].parallel[1]", kAction, 500},
                          Point{"steps[0].parallel[2]", kAction, 600},
                          Point{"steps[0].parallel[0]", kCheck, 800},
                          Point{"steps[0].parallel[1]", kUndo, 4500}));
  EXPECT_EQ((*timeline)[0].members[0].check_index, 0);
}

TEST(PlanScenario, DescriptionsComeFromTheGivenTextOrTheDefaults) {
  StepText text;
  text.action = [](const nslab::v1::Action& action) { return "do " + action.exec().node(); };
  absl::StatusOr<std::vector<nslab::v1::PlannedStep>> plan =
      PlanScenario(ParseScenario(R"pb(
                     steps {
                       for_ms: 5
                       action { exec { node: "a" } }
                     }
                     steps {
                       at_ms: 1
                       check { name: "up" tcp: "x:1" }
                     }
                   )pb"),
                   0, text);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0].description(), "do a");
  EXPECT_EQ((*plan)[1].description(), "check up");
  EXPECT_EQ((*plan)[2].description(), "undo do a");
  EXPECT_THAT(
      DefaultActionText(
          ParseScenario(R"pb(steps { action { exec { node: "n" } } })pb").steps(0).action()),
      HasSubstr("exec"));
}

TEST(PlanScenario, AStepWithNothingInItIsRefusedByPath) {
  absl::StatusOr<std::vector<nslab::v1::PlannedStep>> plan =
      PlanScenario(ParseScenario(R"pb(steps { parallel { steps { at_ms: 1 } } })pb"), 0);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("steps[0].parallel[0]"));
}

TEST(PlanScenario, AScenarioEndingBeyond32BitMillisecondsIsRefused) {
  absl::StatusOr<std::vector<nslab::v1::PlannedStep>> plan =
      PlanScenario(ParseScenario(R"pb(
                     steps {
                       serial {
                         steps {
                           at_ms: 4000000000
                           action { exec { node: "a" } }
                         }
                         steps {
                           at_ms: 4000000000
                           action { exec { node: "b" } }
                         }
                       }
                     }
                   )pb"),
                   0);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("steps[0].serial[1]"));
}

}  // namespace
}  // namespace nslab::scenario
