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
  // What flow-scoped impairments that need a qdisc take: an htb root to hold a class per flow,
  // and nftables' netdev egress hook (Linux 5.16) setting each frame's priority to its class.
  bool htb = false;
  bool nft_egress = false;
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

// One flow of a direction: what it matches and does (the proto's FlowImpairmentState without
// its counters).
struct KernelFlow {
  nslab::v1::FlowMatch match;
  nslab::v1::Impairment impairment;
  // What messages call it: e.g. "links[2].flows[0]"; empty: `flow "<match text>"`.
  std::string label;
};

// What the kernel backend installs for one direction with flows (flow_rules.h says how):
// every impairment planned as PlanKernelImpairment plans it alone, and where any of them needs
// a qdisc, an htb root on the sending interface with a class per such plan, a flow's frames
// classified by the egress hook. A flow whose plan needs no qdisc (loss alone without netem, or
// passing untouched) is sent unshaped, ahead of the link's own impairment.
struct KernelFlowsPlan {
  KernelPlan link;                // the direction's own impairment: frames no flow matches
  std::vector<KernelPlan> flows;  // in the order of the flows, the first match winning
  bool egress_tree = false;       // some plan has a root qdisc: htb + classifier needed
  bool ingress_loss = false;      // some plan has ingress_loss_percent: the loss table needed
};

// Plans `link_impairment` and `flows` for an interface of `link_mtu` bytes. Errors are
// PlanKernelImpairment's, a flow's prefixed with its label; and
// FAILED_PRECONDITION naming the flow when the kernel lacks htb or the egress hook a qdisc per
// flow needs ("...; use mode: wire").
absl::StatusOr<KernelFlowsPlan> PlanKernelFlows(const nslab::v1::Impairment& link_impairment,
                                                const std::vector<KernelFlow>& flows,
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
