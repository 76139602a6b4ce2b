// ValidateScenario on messages built in C++, as API callers send them (no YAML reader ran).
#include "daemon/scenario/spec/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace nslab::scenario {
namespace {

using nslab::v1::Scenario;
using nslab::v1::Step;

Scenario OneStep(const Step& step) {
  Scenario scenario;
  scenario.set_name("s");
  *scenario.add_steps() = step;
  return scenario;
}

std::string ErrorOf(const Scenario& scenario) {
  const absl::Status status = ValidateScenario(scenario);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

Step TcpCheck(const std::string& name) {
  Step step;
  step.mutable_check()->set_name(name);
  step.mutable_check()->set_from("client");
  step.mutable_check()->set_tcp("10.0.0.2:80");
  return step;
}

Step Heal() {
  Step step;
  step.mutable_action()->mutable_heal();
  return step;
}

TEST(ValidateScenario, AcceptsAMinimalScenario) {
  EXPECT_TRUE(ValidateScenario(OneStep(Heal())).ok());
  EXPECT_TRUE(ValidateScenario(OneStep(TcpCheck("a"))).ok());
}

TEST(ValidateScenario, NameAndSteps) {
  Scenario scenario;
  EXPECT_THAT(ErrorOf(scenario), ::testing::StartsWith("name: missing"));
  scenario.set_name("has space");
  EXPECT_EQ(ErrorOf(scenario),
            "name: scenario name \"has space\" may hold only lowercase letters, digits and '-'");
  scenario.set_name("ok");
  EXPECT_EQ(ErrorOf(scenario), "steps: a scenario needs at least one step");
  scenario.add_steps();
  EXPECT_EQ(ErrorOf(scenario), "steps[0]: a step needs one action, check, parallel or serial");
  scenario.mutable_steps(0)->mutable_action();
  EXPECT_EQ(ErrorOf(scenario), "steps[0].action: an empty action (set one of its kinds)");
}

TEST(ValidateScenario, DurationsAtMost24Hours) {
  Step step = Heal();
  step.set_at_ms(kMaxDurationMs);
  EXPECT_TRUE(ValidateScenario(OneStep(step)).ok());
  step.set_at_ms(kMaxDurationMs + 1);
  EXPECT_EQ(ErrorOf(OneStep(step)), "steps[0].at: 86400001ms is longer than 24h");
  step = TcpCheck("a");
  step.mutable_check()->set_within_ms(UINT32_MAX);
  EXPECT_THAT(ErrorOf(OneStep(step)), ::testing::StartsWith("steps[0].check.within: "));
}

TEST(ValidateScenario, AtMostTenThousandStepsInAll) {
  Scenario scenario;
  scenario.set_name("big");
  Step group;
  for (int i = 0; i < 999; ++i) {
    *group.mutable_parallel()->add_steps() = Heal();
  }
  for (int i = 0; i < 10; ++i) {
    *scenario.add_steps() = group;  // 10 * (1 + 999) = 10000 steps
  }
  EXPECT_TRUE(ValidateScenario(scenario).ok()) << ValidateScenario(scenario);
  *scenario.add_steps() = Heal();
  EXPECT_EQ(ErrorOf(scenario), "steps[10]: a scenario has at most 10000 steps in all");
}

TEST(ValidateScenario, NestingAtMostEightDeep) {
  Step step = Heal();
  for (int depth = 1; depth < kMaxDepth; ++depth) {
    Step group;
    *group.mutable_serial()->add_steps() = step;
    step = group;
  }
  EXPECT_TRUE(ValidateScenario(OneStep(step)).ok());
  Step deeper;
  *deeper.mutable_serial()->add_steps() = step;
  EXPECT_EQ(ErrorOf(OneStep(deeper)),
            "steps[0].serial[0].serial[0].serial[0].serial[0].serial[0].serial[0].serial[0]."
            "serial[0]: groups nest at most 8 deep");
}

TEST(ValidateScenario, EnumsOutsideTheSchema) {
  Step step;
  auto* impair = step.mutable_action()->mutable_impair();
  impair->set_link("wan");
  impair->mutable_impairment()->set_delay_us(1000);
  impair->set_direction(static_cast<nslab::v1::Direction>(9));
  EXPECT_EQ(ErrorOf(OneStep(step)), "steps[0].impair.direction: not one of both, a-to-b, b-to-a");
  step = TcpCheck("a");
  step.mutable_check()->set_expect(static_cast<nslab::v1::Expect>(7));
  EXPECT_EQ(ErrorOf(OneStep(step)), "steps[0].check.expect: not one of ok, fail");
  step = Step();
  step.mutable_action()->mutable_partition()->add_groups()->add_nodes("a");
  step.mutable_action()->mutable_partition()->add_groups()->add_nodes("b");
  step.mutable_action()->mutable_partition()->set_mode(static_cast<nslab::v1::PartitionMode>(5));
  EXPECT_EQ(ErrorOf(OneStep(step)), "steps[0].partition.mode: not one of drop, reject");
}

TEST(ValidateScenario, ImpairmentRangesAreTheImpairModules) {
  Step step;
  auto* impair = step.mutable_action()->mutable_impair();
  impair->set_link("wan");
  impair->mutable_impairment()->set_loss(150);
  EXPECT_THAT(ErrorOf(OneStep(step)), ::testing::StartsWith("steps[0].impair: loss must be in"));
}

TEST(ValidateScenario, ChecksFromTheApi) {
  Step step = TcpCheck("a");
  step.mutable_check()->set_max_loss(std::nan(""));
  EXPECT_EQ(ErrorOf(OneStep(step)),
            "steps[0].check.max_loss: only a ping check takes count:, max_loss:, max_rtt:");
  step = Step();
  step.mutable_check()->set_name("p");
  step.mutable_check()->set_from("c");
  step.mutable_check()->set_ping("10.0.0.1");
  step.mutable_check()->set_max_loss(std::nan(""));
  EXPECT_EQ(ErrorOf(OneStep(step)), "steps[0].check.max_loss: must be a percent from 0 to 100");
  step = TcpCheck("line\nbreak");
  EXPECT_EQ(ErrorOf(OneStep(step)), "steps[0].check.name: holds a control character");
  step = TcpCheck(std::string(kMaxCheckNameLength + 1, 'x'));
  EXPECT_EQ(ErrorOf(OneStep(step)), "steps[0].check.name: longer than 128 characters");
  step = Step();
  step.mutable_check()->set_name("e");
  step.mutable_check()->set_from("c");
  step.mutable_check()->mutable_exec()->set_exit(-1);
  step.mutable_check()->mutable_exec()->add_argv("true");
  EXPECT_EQ(ErrorOf(OneStep(step)), "steps[0].check.exit: must be from 0 to 255");
  step = Step();
  step.mutable_check()->set_name("w");
  step.mutable_check()->mutable_counter()->set_wire("wan:both:x");
  step.mutable_check()->mutable_counter()->set_min(1);
  EXPECT_THAT(ErrorOf(OneStep(step)),
              ::testing::StartsWith("steps[0].check.counter.wire: \"wan:both:x\" is not"));
  step.mutable_check()->mutable_counter()->set_wire("client:eth0:b-to-a:dropped_loss");
  EXPECT_TRUE(ValidateScenario(OneStep(step)).ok());
}

TEST(ValidateScenario, ForOnUndoableActionsOnly) {
  const auto with_for = [](auto set) {
    Step step;
    set(step.mutable_action());
    step.set_for_ms(1000);
    return step;
  };
  EXPECT_TRUE(ValidateScenario(OneStep(with_for([](nslab::v1::Action* a) {
                a->mutable_link_down()->set_link("wan");
              }))).ok());
  EXPECT_TRUE(ValidateScenario(OneStep(with_for([](nslab::v1::Action* a) {
                a->mutable_flush_firewall()->set_node("srv");
              }))).ok());
  EXPECT_EQ(ErrorOf(OneStep(with_for([](nslab::v1::Action* a) { a->mutable_heal(); }))),
            "steps[0].for: heal cannot be undone, so it takes no for: (only impair, clear, "
            "link_down, link_up, partition, firewall, flush_firewall, ustack_fault, apply do)");
  EXPECT_THAT(ErrorOf(OneStep(with_for([](nslab::v1::Action* a) {
                auto* flap = a->mutable_flap();
                flap->set_link("wan");
                flap->set_down_ms(1);
                flap->set_up_ms(1);
                flap->set_count(1);
              }))),
              ::testing::StartsWith("steps[0].for: flap cannot be undone"));
}

TEST(IsUndoable, TheListedActions) {
  nslab::v1::Action action;
  action.mutable_ustack_fault();
  EXPECT_TRUE(IsUndoable(action));
  action.mutable_exec();
  EXPECT_FALSE(IsUndoable(action));
  action.mutable_restart();
  EXPECT_FALSE(IsUndoable(action));
  action.mutable_clear();
  EXPECT_TRUE(IsUndoable(action));
}

}  // namespace
}  // namespace nslab::scenario
