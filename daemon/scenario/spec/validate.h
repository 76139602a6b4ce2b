#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "daemon/topology/field_error.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// Bounds that keep a scenario's plan and report small whatever a file or an API caller sends.
inline constexpr size_t kMaxSteps = 10'000;             // every step, group members included
inline constexpr int kMaxDepth = 8;                     // a top-level step is depth 1
inline constexpr uint32_t kMaxDurationMs = 86'400'000;  // 24h, for every duration
inline constexpr size_t kMaxCheckNameLength = 128;

// Checks a scenario whole before anything runs: its name, every step's shape (exactly one
// kind; `for` only where it means something), every action's and check's required fields and
// ranges, unique check names, and the bounds above. Names of nodes, links and processes are
// checked for spelling only: whether the lab has them is the engine's question. Does not
// assume the scenario came from YAML (API callers send the message).
// INVALID_ARGUMENT naming the first problem's path: `steps[3].parallel[1].check.tcp: ...`.
absl::Status ValidateScenario(const nslab::v1::Scenario& scenario);

// The same, as a path and a message, for readers that add the line of the path.
std::optional<topology::FieldError> FindScenarioProblem(const nslab::v1::Scenario& scenario);

// Whether `for:` may undo the action (impair, clear, link_down, link_up, partition, firewall,
// flush_firewall, ustack_fault): the engine restores what was there before.
bool IsUndoable(const nslab::v1::Action& action);

}  // namespace nslab::scenario
