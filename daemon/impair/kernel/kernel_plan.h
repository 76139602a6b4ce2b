#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/impair/kernel/qdisc_messages.h"
#include "daemon/impair/loss.h"
#include "daemon/impair/spec.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::impair::kernel {

// What the kernel offers the backend, from the daemon's capability probe
// (caps::Has(capabilities, "netem"), ... "tbf"). Nothing is assumed: a default-constructed
// value has neither.
struct KernelFeatures {
  bool netem = false;
  bool tbf = false;
  bool netem_seed = false;  // netem takes TCA_NETEM_PRNG_SEED (ProbeNetemSeed)
};

enum class RootQdisc { kNone, kNetem, kTbf };

// What the kernel backend installs for one direction of a link. Pure data, built by
// PlanKernelImpairment; ApplyKernelImpairment carries out the sending side of it.
struct KernelPlan {
  RootQdisc root = RootQdisc::kNone;
  // root == kNetem: netem's parameters. rate_bps is 0 when a tbf under netem takes the rate.
  ImpairmentSpec netem;
  // The tbf: the root (kTbf), or the child of netem when rate_bps comes with burst_bytes,
  // which netem's own rate cannot honour.
  bool tbf_under_netem = false;
  TbfParams tbf;
  // > 0: a pfifo of this many packets under the tbf root (limit_packets without netem).
  uint32_t pfifo_limit_packets = 0;
  // > 0: loss without netem. Not the sending side's business: the caller installs
  // RenderIngressLossRuleset(<receiving interface>, this) on the other end of the link.
  double ingress_loss_percent = 0;
  // The proto fields netem carries in this plan, in field order: named in the
  // FAILED_PRECONDITION when the kernel turns out to have no netem after all.
  std::vector<std::string_view> netem_fields;
};

// How long tbf may queue when limit_packets is not set: tc's `latency 50ms`.
inline constexpr int64_t kTbfQueueLatencyMs = 50;

// Decides the qdiscs for `impairment` on an interface of `link_mtu` bytes (the default burst
// and the smallest allowed burst depend on it):
//   - any netem-only field (delay, jitter, correlations, distribution, Gilbert-Elliott,
//     duplicate, reorder, corrupt) or, with netem present, plain loss: netem at the root,
//     carrying rate_bps as netem's own rate, or a tbf under it when burst_bytes is set too;
//   - otherwise rate_bps: tbf at the root (a pfifo under it for limit_packets);
//   - plain loss without netem: ingress_loss_percent, for the receiving end.
// Errors: INVALID_ARGUMENT naming the field (ValidateImpairment, and a burst_bytes below the
// link's frame size, which tbf would turn into a black hole for full-size frames);
// FAILED_PRECONDITION when `features` lack netem (NetemMissingError) or tbf, or for
// trace_file, which only the wire can honour.
absl::StatusOr<KernelPlan> PlanKernelImpairment(const nslab::v1::Impairment& impairment,
                                                const KernelFeatures& features, uint32_t link_mtu);

// "kernel has no sch_netem: <fields> need sch_netem; use mode: wire (or rate/loss only, which work
// without netem)" as FAILED_PRECONDITION.
absl::Status NetemMissingError(const std::vector<std::string_view>& fields);

// The Gilbert-Elliott parameters exactly as `tc ... loss gemodel p r 1-h 1-k` sends them.
// iproute2 computes h as rint((1 - (1-h)) * UINT32_MAX); GilbertElliottParams::FromNetemArgs
// computes UINT32_MAX - rint((1-h) * UINT32_MAX), which is one unit off for some values
// (70% gives 0x4ccccccc there, 0x4ccccccd in tc). The kernel backend sends what tc sends.
GilbertElliottParams TcGilbertElliott(const nslab::v1::GilbertElliott& ge);

}  // namespace nslab::impair::kernel
