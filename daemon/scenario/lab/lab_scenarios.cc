#include "daemon/scenario/lab/lab_scenarios.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "daemon/events/event_bus.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/scenario/engine/executor.h"
#include "daemon/scenario/engine/plan.h"
#include "daemon/scenario/lab/actions.h"
#include "daemon/scenario/lab/lab_context.h"
#include "daemon/scenario/lab/probes.h"
#include "daemon/scenario/spec/describe.h"
#include "daemon/scenario/spec/validate.h"

namespace nslab::scenario {
namespace {

class FunctionUndo : public AppliedAction {
 public:
  explicit FunctionUndo(std::function<absl::Status()> undo) : undo_(std::move(undo)) {}
  absl::Status Undo() override { return undo_(); }

 private:
  std::function<absl::Status()> undo_;
};

absl::StatusOr<const ActionHandler*> ActionHandlerOf(const nslab::v1::Action& action) {
  const ActionHandler* handler = HandlerFor(action);
  if (handler == nullptr) {
    return absl::InvalidArgumentError("a step's action has no kind");
  }
  return handler;
}

absl::StatusOr<const ProbeHandler*> ProbeHandlerOf(const nslab::v1::Check& check) {
  const ProbeHandler* handler = ProbeHandlerFor(check);
  if (handler == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("check ", check.name(), " has no probe"));
  }
  return handler;
}

class LabActionRunner : public ActionRunner {
 public:
  explicit LabActionRunner(LabContext& context) : context_(context) {}

  absl::Status Prepare(const nslab::v1::Action& action) override {
    auto handler = ActionHandlerOf(action);
    if (!handler.ok()) {
      return handler.status();
    }
    return (*handler)->check(context_.topology, action);
  }

  absl::StatusOr<AppliedResult> Apply(const nslab::v1::Action& action,
                                      const ActionContext&) override {
    auto handler = ActionHandlerOf(action);
    if (!handler.ok()) {
      return handler.status();
    }
    auto applied = (*handler)->apply(context_, action);
    if (!applied.ok()) {
      return applied.status();
    }
    AppliedResult result;
    result.detail = std::move(applied->detail);
    if (applied->undo) {
      result.undo = std::make_unique<FunctionUndo>(std::move(applied->undo));
    }
    return result;
  }

 private:
  LabContext& context_;
};

class LabProbeFactory : public ProbeFactory {
 public:
  explicit LabProbeFactory(LabContext& context) : context_(context) {}

  absl::StatusOr<std::unique_ptr<Probe>> Make(const nslab::v1::Check& check) override {
    auto handler = ProbeHandlerOf(check);
    if (!handler.ok()) {
      return handler.status();
    }
    if (auto status = (*handler)->check(context_.topology, check); !status.ok()) {
      return status;
    }
    return (*handler)->make(context_, check);
  }

 private:
  LabContext& context_;
};

// Every name the scenario uses, checked against `topology`.
absl::Status CheckNames(const nslab::v1::Topology& topology,
                        const google::protobuf::RepeatedPtrField<nslab::v1::Step>& steps,
                        const std::string& path) {
  for (int i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    const std::string here = absl::StrCat(path, "[", i, "]");
    absl::Status status;
    if (step.has_action()) {
      auto handler = ActionHandlerOf(step.action());
      status = handler.ok() ? (*handler)->check(topology, step.action()) : handler.status();
    } else if (step.has_check()) {
      auto handler = ProbeHandlerOf(step.check());
      status = handler.ok() ? (*handler)->check(topology, step.check()) : handler.status();
    } else if (step.has_parallel()) {
      status = CheckNames(topology, step.parallel().steps(), absl::StrCat(here, ".parallel"));
    } else if (step.has_serial()) {
      status = CheckNames(topology, step.serial().steps(), absl::StrCat(here, ".serial"));
    }
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(here, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

StepText SpecText() {
  StepText text;
  text.action = [](const nslab::v1::Action& action) { return DescribeAction(action); };
  text.check = [](const nslab::v1::Check& check) { return absl::StrCat("check ", check.name()); };
  text.expectation = [](const nslab::v1::Check& check, uint32_t for_ms) {
    return DescribeCheck(check, for_ms);
  };
  return text;
}

}  // namespace

absl::StatusOr<nslab::v1::PlanScenarioResponse> LabScenarios::Plan(
    const nslab::v1::PlanScenarioRequest& request) const {
  if (auto status = ValidateScenario(request.scenario()); !status.ok()) {
    return status;
  }
  std::optional<nslab::v1::Topology> topology;
  if (!request.lab().empty()) {
    auto built = parts_.labs->TopologyOf(request.lab());
    if (!built.ok()) {
      return built.status();
    }
    topology = *built;
  } else if (request.has_topology()) {
    topology = request.topology();
  }
  if (topology) {
    if (auto status = CheckNames(*topology, request.scenario().steps(), "steps"); !status.ok()) {
      return status;
    }
  }
  const uint64_t seed = request.has_seed() ? request.seed() : request.scenario().seed();
  auto steps = PlanScenario(request.scenario(), seed, SpecText());
  if (!steps.ok()) {
    return steps.status();
  }
  nslab::v1::PlanScenarioResponse response;
  response.set_seed(seed);
  for (auto& step : *steps) {
    *response.add_steps() = std::move(step);
  }
  return response;
}

absl::StatusOr<nslab::v1::ScenarioReport> LabScenarios::Run(
    const std::string& lab, const nslab::v1::Scenario& scenario, std::optional<uint64_t> seed,
    const std::function<void(const nslab::v1::LabEvent&)>& on_event,
    const std::function<bool()>& cancelled) const {
  if (auto status = ValidateScenario(scenario); !status.ok()) {
    return status;
  }
  auto topology = parts_.labs->TopologyOf(lab);
  if (!topology.ok()) {
    return topology.status();
  }
  LabContext context{lab,          *topology,         parts_.labs,
                     parts_.chaos, parts_.supervisor, parts_.processes};
  LabActionRunner actions(context);
  LabProbeFactory probes(context);
  const uint64_t drawn_seed = seed.value_or(scenario.seed());
  // Nothing runs unless every step's names exist in the lab and every probe could be made.
  auto prepared = PrepareScenario(scenario, drawn_seed, actions, probes);
  if (!prepared.ok()) {
    return prepared.status();
  }

  RealClock clock;
  Cancel cancel;
  absl::Notification finished;
  std::thread watcher([&] {
    while (!finished.WaitForNotificationWithTimeout(absl::Milliseconds(50))) {
      if (cancelled && cancelled()) {
        cancel.Request();
        return;
      }
    }
  });
  events::EventBus* bus = parts_.events;
  Environment environment{clock,
                          actions,
                          probes,
                          cancel,
                          [&on_event, bus](const nslab::v1::LabEvent& event) {
                            if (bus != nullptr) {
                              bus->Publish(event);
                            }
                            if (on_event) {
                              on_event(event);
                            }
                          },
                          lab,
                          SpecText()};
  nslab::v1::ScenarioReport report = RunPrepared(std::move(*prepared), environment);
  finished.Notify();
  watcher.join();
  return report;
}

}  // namespace nslab::scenario
