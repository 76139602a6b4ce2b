#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// The action's key in a scenario file ("partition", "link_down"); "action" when none is set.
absl::string_view ActionKey(const nslab::v1::Action& action);

// One line of plain text for plans, events and JUnit, e.g.
// "partition [client] | [server] (drop)", "impair client:eth0 a-to-b: delay 40ms, loss 5%",
// "kill nginx on server (TERM)".
std::string DescribeAction(const nslab::v1::Action& action);

// What the check expects, as one line: "tcp 10.0.0.2:8080 connects within 5s",
// "http://10.0.0.2:8080/ answers 200 every 100ms for 2s". `step_for_ms` is the enclosing
// step's `for`, which continuous (every:) checks run for.
std::string DescribeCheck(const nslab::v1::Check& check, uint32_t step_for_ms);

}  // namespace nslab::scenario
