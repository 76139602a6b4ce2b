#pragma once

#include <functional>
#include <string>

#include "daemon/scenario/engine/action_runner.h"
#include "daemon/scenario/engine/cancel.h"
#include "daemon/scenario/engine/clock.h"
#include "daemon/scenario/engine/probe.h"
#include "daemon/scenario/engine/step_text.h"
#include "nslab/v1/events.pb.h"

namespace nslab::scenario {

// Everything a scenario is played against. The referenced objects outlive the run.
struct Environment {
  Clock& clock;
  ActionRunner& actions;
  ProbeFactory& probes;
  // Stops the scenario: sleeping steps end, running attempts finish, applied actions are
  // undone, and the report says it was cancelled.
  const Cancel& cancel;
  // Receives every event as it happens, from the executor's threads but one call at a time.
  std::function<void(const nslab::v1::LabEvent&)> on_event = nullptr;
  std::string lab = {};  // copied into the report and the events
  StepText text = {};
};

}  // namespace nslab::scenario
