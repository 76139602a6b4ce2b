#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// The largest scenario text nslab reads.
inline constexpr size_t kMaxScenarioBytes = 1 << 20;

// Reads the text of a scenario file (docs/scenario-format.md) into its proto form and
// validates it whole (ValidateScenario). Errors are INVALID_ARGUMENT naming the key path and
// its line: `steps[2].partition.mode: "dorp" is not one of drop, reject (line 7)`. Unknown
// keys are errors.
absl::StatusOr<nslab::v1::Scenario> ReadScenarioYaml(absl::string_view text);

// A request's scenario, which it carries either as the message (`message`, null when absent)
// or as the text of a scenario file (`yaml`, read as ReadScenarioYaml reads it). Clients send
// the text so that every client, in any language, gets the same reader and the same errors.
// INVALID_ARGUMENT when both or neither are given.
absl::StatusOr<nslab::v1::Scenario> ScenarioOfRequest(const nslab::v1::Scenario* message,
                                                      absl::string_view yaml);

}  // namespace nslab::scenario
