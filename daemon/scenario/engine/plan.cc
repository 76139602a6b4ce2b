#include "daemon/scenario/engine/plan.h"

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/status_macros.h"
#include "daemon/impair/rng.h"

namespace nslab::scenario {
namespace {

using nslab::v1::PlannedStep;
using nslab::v1::Step;
using nslab::v1::StepGroup;

constexpr uint64_t kMaxOffsetMs = std::numeric_limits<uint32_t>::max();

// SplitMix64's finalizer: every input bit affects every output bit.
uint64_t Mix(uint64_t x) { return impair::SplitMix64(x); }

uint64_t CheckEndMs(const nslab::v1::Check& check, uint64_t start_ms, uint32_t for_ms) {
  if (check.every_ms() != 0) {
    return start_ms + for_ms;
  }
  if (check.within_ms() != 0) {
    return start_ms + check.within_ms();
  }
  return start_ms + AttemptTimeoutMs(check);
}

class Timer {
 public:
  explicit Timer(uint64_t seed) : seed_(seed) {}

  // Times `steps` (a group's members, or the top level when `path` is "steps").
  absl::StatusOr<std::vector<TimedStep>> TimeGroup(
      const google::protobuf::RepeatedPtrField<Step>& steps, const std::string& path, bool serial,
      uint64_t group_start_ms) {
    std::vector<TimedStep> timed;
    timed.reserve(steps.size());
    uint64_t previous_end_ms = group_start_ms;
    for (int i = 0; i < steps.size(); ++i) {
      const uint64_t base_ms = serial ? previous_end_ms : group_start_ms;
      NSLAB_ASSIGN_OR_RETURN(TimedStep step,
                             TimeStep(steps[i], absl::StrCat(path, "[", i, "]"), base_ms));
      previous_end_ms = step.chain_ms;
      timed.push_back(std::move(step));
    }
    return timed;
  }

 private:
  absl::StatusOr<TimedStep> TimeStep(const Step& step, std::string path, uint64_t base_ms) {
    TimedStep timed;
    timed.at_ms = step.at_ms();
    timed.for_ms = step.for_ms();
    timed.jitter_ms = DrawJitter(seed_, path, step.jitter_ms());
    timed.start_ms = base_ms + step.at_ms() + timed.jitter_ms;
    switch (step.kind_case()) {
      case Step::kAction:
        timed.kind = TimedStep::Kind::kAction;
        timed.action = step.action();
        timed.end_ms = timed.start_ms + step.for_ms();
        timed.chain_ms = timed.end_ms;
        break;
      case Step::kCheck:
        timed.kind = TimedStep::Kind::kCheck;
        timed.check = step.check();
        timed.check_index = next_check_index_++;
        timed.end_ms = CheckEndMs(step.check(), timed.start_ms, step.for_ms());
        // A check ends when it decides: at once if it holds. Only `every` has a fixed length.
        timed.chain_ms = step.check().every_ms() != 0 ? timed.end_ms : timed.start_ms;
        break;
      case Step::kParallel:
      case Step::kSerial: {
        const bool serial = step.kind_case() == Step::kSerial;
        const StepGroup& group = serial ? step.serial() : step.parallel();
        timed.kind = serial ? TimedStep::Kind::kSerial : TimedStep::Kind::kParallel;
        NSLAB_ASSIGN_OR_RETURN(
            timed.members,
            TimeGroup(group.steps(), absl::StrCat(path, serial ? ".serial" : ".parallel"), serial,
                      timed.start_ms));
        timed.end_ms = timed.start_ms;
        timed.chain_ms = timed.start_ms;
        for (const TimedStep& member : timed.members) {
          timed.end_ms = std::max(timed.end_ms, member.end_ms);
          timed.chain_ms = serial ? member.chain_ms : std::max(timed.chain_ms, member.chain_ms);
        }
        break;
      }
      case Step::KIND_NOT_SET:
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": the step has no action, check, parallel or serial group"));
    }
    if (timed.end_ms > kMaxOffsetMs) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ends ", timed.end_ms,
                       " ms after the start; a scenario must end within ", kMaxOffsetMs, " ms"));
    }
    timed.path = std::move(path);
    return timed;
  }

  uint64_t seed_;
  int next_check_index_ = 0;
};

void Flatten(const std::vector<TimedStep>& steps, const StepText& text,
             std::vector<PlannedStep>& out) {
  for (const TimedStep& step : steps) {
    switch (step.kind) {
      case TimedStep::Kind::kAction: {
        const std::string description = text.Action(step.action);
        PlannedStep& applied = out.emplace_back();
        applied.set_path(step.path);
        applied.set_kind(nslab::v1::STEP_KIND_ACTION);
        applied.set_description(description);
        applied.set_planned_ms(static_cast<uint32_t>(step.start_ms));
        applied.set_jitter_ms(step.jitter_ms);
        if (step.for_ms != 0) {
          PlannedStep& undo = out.emplace_back();  // `applied` may dangle from here on
          undo.set_path(step.path);
          undo.set_kind(nslab::v1::STEP_KIND_UNDO);
          undo.set_description(absl::StrCat("undo ", description));
          undo.set_planned_ms(static_cast<uint32_t>(step.end_ms));
          undo.set_jitter_ms(step.jitter_ms);
        }
        break;
      }
      case TimedStep::Kind::kCheck: {
        PlannedStep& check = out.emplace_back();
        check.set_path(step.path);
        check.set_kind(nslab::v1::STEP_KIND_CHECK);
        check.set_description(text.Check(step.check));
        check.set_planned_ms(static_cast<uint32_t>(step.start_ms));
        check.set_jitter_ms(step.jitter_ms);
        break;
      }
      case TimedStep::Kind::kParallel:
      case TimedStep::Kind::kSerial:
        Flatten(step.members, text, out);
        break;
    }
  }
}

}  // namespace

uint64_t StepSeed(uint64_t scenario_seed, std::string_view path) {
  return Mix(Mix(scenario_seed) ^ impair::Fnv1a64(path));
}

uint32_t DrawJitter(uint64_t scenario_seed, std::string_view path, uint32_t jitter_ms) {
  if (jitter_ms == 0) {
    return 0;
  }
  // Lemire's multiply-shift: uniform over [0, jitter_ms] up to a bias below 2^-32.
  const unsigned __int128 product =
      static_cast<unsigned __int128>(Mix(StepSeed(scenario_seed, path))) *
      (static_cast<uint64_t>(jitter_ms) + 1);
  return static_cast<uint32_t>(product >> 64);
}

absl::StatusOr<std::vector<TimedStep>> TimeScenario(const nslab::v1::Scenario& scenario,
                                                    uint64_t seed) {
  return Timer(seed).TimeGroup(scenario.steps(), "steps", /*serial=*/false, 0);
}

std::vector<PlannedStep> FlattenPlan(const std::vector<TimedStep>& timeline, const StepText& text) {
  std::vector<PlannedStep> plan;
  Flatten(timeline, text, plan);
  std::stable_sort(plan.begin(), plan.end(), [](const PlannedStep& a, const PlannedStep& b) {
    return a.planned_ms() < b.planned_ms();
  });
  return plan;
}

absl::StatusOr<std::vector<PlannedStep>> PlanScenario(const nslab::v1::Scenario& scenario,
                                                      uint64_t seed, const StepText& text) {
  NSLAB_ASSIGN_OR_RETURN(std::vector<TimedStep> timeline, TimeScenario(scenario, seed));
  return FlattenPlan(timeline, text);
}

uint64_t PlannedEndMs(const std::vector<TimedStep>& timeline) {
  uint64_t end_ms = 0;
  for (const TimedStep& step : timeline) {
    end_ms = std::max(end_ms, step.end_ms);
  }
  return end_ms;
}

}  // namespace nslab::scenario
