#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/scenario/engine/step_text.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// One step of a scenario with its times drawn and computed: the tree the executor plays and
// the plan flattens. Offsets are milliseconds from the scenario's start.
struct TimedStep {
  enum class Kind { kAction, kCheck, kParallel, kSerial };

  Kind kind = Kind::kAction;
  std::string path;        // "steps[3]", "steps[7].parallel[1]"
  uint32_t at_ms = 0;      // as written
  uint32_t for_ms = 0;     // as written
  uint32_t jitter_ms = 0;  // the drawn delay in [0, the step's jitter]
  uint64_t start_ms = 0;   // planned start, jitter included
  // Planned end: an action's undo point (its start without `for`), a one-shot check's start +
  // attempt timeout, a `within` check's start + within, an `every` check's start + for, a
  // group's latest member end.
  uint64_t end_ms = 0;
  // Where a `serial` group plans its next member: the end of an action's `for` or of an
  // `every` check, but a check's start otherwise (a check ends as soon as it decides: a
  // `within` that holds at once does not hold up the members after it). The executor starts
  // a serial member at the later of its planned time and the previous member's actual end +
  // at + jitter, so planned offsets after a check are the earliest it can start.
  uint64_t chain_ms = 0;
  nslab::v1::Action action;        // kAction
  nslab::v1::Check check;          // kCheck
  int check_index = -1;            // kCheck: its place among the scenario's checks, in file order
  std::vector<TimedStep> members;  // kParallel, kSerial
};

// A seed for whatever is drawn for the step at `path`: a stable hash of both, so that editing
// one step never shifts another step's draws. Also the seed an action gets for its own draws.
uint64_t StepSeed(uint64_t scenario_seed, std::string_view path);

// A delay uniform in [0, jitter_ms], drawn from StepSeed(scenario_seed, path).
uint32_t DrawJitter(uint64_t scenario_seed, std::string_view path, uint32_t jitter_ms);

// The step tree with times. Top-level steps and `parallel` members start at their group's
// start + at + jitter; `serial` members at the previous member's chain_ms + at + jitter.
// INVALID_ARGUMENT names the step that has no action, check or group, or the first that would
// end later than 2^32 ms.
absl::StatusOr<std::vector<TimedStep>> TimeScenario(const nslab::v1::Scenario& scenario,
                                                    uint64_t seed);

// The planned timeline: every action, undo (start + for) and check start, ordered by planned
// time and, at the same time, by the file's order. The same scenario and seed give the same
// plan.
absl::StatusOr<std::vector<nslab::v1::PlannedStep>> PlanScenario(
    const nslab::v1::Scenario& scenario, uint64_t seed, const StepText& text = {});

// The same, from a tree TimeScenario made.
std::vector<nslab::v1::PlannedStep> FlattenPlan(const std::vector<TimedStep>& timeline,
                                                const StepText& text = {});

// The latest planned end of any step: when the scenario is planned to end.
uint64_t PlannedEndMs(const std::vector<TimedStep>& timeline);

}  // namespace nslab::scenario
