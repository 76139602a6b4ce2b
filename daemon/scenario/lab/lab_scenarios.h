#pragma once

// Scenarios played against the daemon's labs: the scenario engine (daemon/scenario/engine)
// driven through the action and probe handlers of this folder, its events published on the
// lab's event bus. What ScenarioService calls; it holds no state between runs.

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nslab/v1/events.pb.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::lab {
class LabRegistry;
}
namespace nslab::chaos {
class ChaosEngine;
}
namespace nslab::exec {
class Supervisor;
class ProcessRegistry;
}  // namespace nslab::exec
namespace nslab::events {
class EventBus;
}

namespace nslab::scenario {

class LabScenarios {
 public:
  struct Parts {
    lab::LabRegistry* labs = nullptr;
    chaos::ChaosEngine* chaos = nullptr;
    exec::Supervisor* supervisor = nullptr;
    exec::ProcessRegistry* processes = nullptr;
    events::EventBus* events = nullptr;  // may be null
  };
  explicit LabScenarios(Parts parts) : parts_(parts) {}

  // INVALID_ARGUMENT: the scenario is wrong. NOT_FOUND: no such lab. FAILED_PRECONDITION: it
  // names what the lab (or the request's topology) lacks.
  absl::StatusOr<nslab::v1::PlanScenarioResponse> Plan(
      const nslab::v1::PlanScenarioRequest& request) const;

  // Checks the whole scenario against the lab (the same errors as Plan, and nothing runs),
  // then plays it; `on_event` gets every event as it happens (one call at a time), and the
  // lab's watchers see them too. `cancelled` is polled: true stops the scenario, which then
  // undoes what it applied.
  absl::StatusOr<nslab::v1::ScenarioReport> Run(
      const std::string& lab, const nslab::v1::Scenario& scenario, std::optional<uint64_t> seed,
      const std::function<void(const nslab::v1::LabEvent&)>& on_event,
      const std::function<bool()>& cancelled) const;

 private:
  Parts parts_;
};

}  // namespace nslab::scenario
