#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/scenario/engine/environment.h"
#include "daemon/scenario/engine/plan.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// A scenario checked against a lab and ready to play: its timed steps, and a probe for each
// check (probes[i] belongs to the check whose check_index is i).
struct PreparedScenario {
  std::string name;
  uint64_t seed = 0;
  std::vector<TimedStep> timeline;
  std::vector<std::unique_ptr<Probe>> probes;
};

// Times the scenario, asks `actions` whether each action can be applied and `probes` for each
// check's probe, before anything runs. INVALID_ARGUMENT: the scenario itself is wrong (see
// TimeScenario). Otherwise the runner's or factory's error, its message prefixed with the
// step's path ("steps[2] (check web-up): no node \"clinet\"").
absl::StatusOr<PreparedScenario> PrepareScenario(const nslab::v1::Scenario& scenario, uint64_t seed,
                                                 ActionRunner& actions, ProbeFactory& probes);

// Plays a prepared scenario and returns its verdict. Every probe's Baseline runs first (an
// error ends the run there, in the report's `error`); then the scenario starts: each step at
// its planned time on a thread of its own (so a slow probe or action never delays another
// step), serial members once the previous member has ended, actions undone at start + `for`,
// and everything still applied undone in reverse order at the end or on cancel.
nslab::v1::ScenarioReport RunPrepared(PreparedScenario prepared, Environment& environment);

// PrepareScenario, then RunPrepared. A preparation error makes a report with `error` set and
// `passed` false, and nothing runs.
nslab::v1::ScenarioReport RunScenario(const nslab::v1::Scenario& scenario, uint64_t seed,
                                      Environment& environment);

}  // namespace nslab::scenario
