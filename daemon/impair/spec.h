#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/impair/distribution.h"
#include "daemon/impair/loss.h"
#include "daemon/impair/trace.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::impair {

// netem's default queue limit (iproute2 sends 1000 unless told otherwise).
inline constexpr uint32_t kDefaultLimitPackets = 1000;

// One direction's impairment in the form the models use: validated, probabilities scaled to
// UINT32_MAX, times in ns, tables and traces loaded. Built from the proto by CompileImpairment;
// code and tests may also fill it directly, e.g. for the 4-state loss model, which the proto
// does not carry yet.
struct ImpairmentSpec {
  int64_t delay_ns = 0;
  int32_t jitter_ns = 0;
  uint32_t delay_correlation = 0;
  // nullptr = uniform jitter, netem's behaviour without a table.
  std::shared_ptr<const DistributionTable> distribution;

  LossParams loss;

  uint32_t duplicate = 0;
  uint32_t corrupt = 0;
  uint32_t reorder = 0;
  // netem's gap; iproute2 turns `reorder P` without a gap into gap 1.
  uint32_t reorder_gap = 0;

  uint64_t rate_bps = 0;
  uint32_t burst_bytes = 0;
  uint32_t limit_packets = kDefaultLimitPackets;
  // Replaces rate_bps when set.
  std::shared_ptr<const DeliveryTrace> trace;
};

// Validates (ValidateImpairment) and converts. A delivery trace comes as text (`trace`); a
// trace_file name without it is INVALID_ARGUMENT, since the daemon opens no client's paths.
absl::StatusOr<ImpairmentSpec> CompileImpairment(const nslab::v1::Impairment& impairment);

// True when the spec hands every frame over at once, unchanged and in order: no delay, loss,
// duplication, corruption, reordering or rate. The queue limit alone changes nothing, since
// nothing waits. A wire may then forward TSO/GSO super-frames whole.
bool IsUnimpaired(const ImpairmentSpec& spec);

}  // namespace nslab::impair
