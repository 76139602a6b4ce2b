#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// What an applied action left to take back (the partition to heal, the impairment to clear).
// The executor calls Undo at most once: at the step's start + `for`, or when the scenario ends
// or is cancelled, in the reverse order of application.
class AppliedAction {
 public:
  virtual ~AppliedAction() = default;
  virtual absl::Status Undo() = 0;
};

struct AppliedResult {
  std::string detail;                   // what it did: "exit 0", "ends: client:eth0"
  std::unique_ptr<AppliedAction> undo;  // null: nothing to take back (exec, heal, kill)
};

struct ActionContext {
  std::string path;   // "steps[3]": for messages
  uint64_t seed = 0;  // StepSeed(scenario seed, path): for any draw the action makes itself
};

// Applies actions to a lab. Called from several threads at once (steps overlap).
class ActionRunner {
 public:
  virtual ~ActionRunner() = default;

  // Before anything runs: whether `action` can be applied here (its node, link or process
  // exists). An error stops the scenario before its first step. Changes nothing.
  virtual absl::Status Prepare(const nslab::v1::Action& /*action*/) { return absl::OkStatus(); }

  // An error is the step's failure: the scenario plays on, and its verdict is failed.
  virtual absl::StatusOr<AppliedResult> Apply(const nslab::v1::Action& action,
                                              const ActionContext& context) = 0;
};

}  // namespace nslab::scenario
