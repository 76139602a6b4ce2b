#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::impair {

// Largest jitter netem accepts: it caps jitter to INT_MAX ns (tabledist takes an s32).
inline constexpr uint32_t kMaxJitterUs = 2'147'483;
// Largest queue we agree to hold for one direction.
inline constexpr uint32_t kMaxLimitPackets = 1'000'000;

// Checks one direction's Impairment. On failure: INVALID_ARGUMENT naming every offending field
// and its legal range, e.g. "loss must be in 0..100 (percent), got 120". The rules are netem's
// and iproute2's, so that a value is accepted by the wire exactly when the kernel backend could
// express it (trace_file aside).
absl::Status ValidateImpairment(const nslab::v1::Impairment& impairment);

// Whether gilbert_elliott is in use: present with at least one field set (an empty
// `gilbert_elliott: {}` in YAML means no model).
bool HasGilbertElliott(const nslab::v1::Impairment& impairment);
// A delivery trace, named (trace_file) or given as text (trace).
bool HasTrace(const nslab::v1::Impairment& impairment);

}  // namespace nslab::impair
