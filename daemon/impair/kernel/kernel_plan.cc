#include "daemon/impair/kernel/kernel_plan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/impair/correlated.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/kernel_support.h"
#include "daemon/impair/validate.h"
#include "proto/enum_defaults.h"

namespace nslab::impair::kernel {
namespace {

constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();
// What tbf counts per frame beyond the MTU: the Ethernet header (psched_mtu()).
constexpr uint32_t kEthernetHeaderBytes = 14;

uint32_t ClampU32(uint64_t value) { return static_cast<uint32_t>(std::min(value, kU32Max)); }

absl::StatusOr<TbfParams> TbfFor(const nslab::v1::Impairment& impairment, uint32_t link_mtu) {
  TbfParams tbf;
  tbf.rate_bytes_per_s = impairment.rate_bps() / 8;
  if (tbf.rate_bytes_per_s == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rate_bps must be at least 8 (one byte per second), got ", impairment.rate_bps()));
  }
  const uint64_t frame = static_cast<uint64_t>(link_mtu) + kEthernetHeaderBytes;
  if (impairment.burst_bytes() != 0) {
    if (impairment.burst_bytes() < frame) {
      return absl::InvalidArgumentError(
          absl::StrCat("burst_bytes must be at least ", frame, " (the link's MTU ", link_mtu,
                       " plus its Ethernet header: tbf drops frames larger than the bucket), got ",
                       impairment.burst_bytes()));
    }
    tbf.burst_bytes = impairment.burst_bytes();
  } else {
    // 4 ms of traffic, and at least two full frames: enough that timer slack between two
    // dequeues does not eat into the rate, small enough that the burst is not visible.
    tbf.burst_bytes = ClampU32(std::max(tbf.rate_bytes_per_s / 250, 2 * frame));
  }
  tbf.limit_bytes =
      ClampU32(tbf.rate_bytes_per_s * kTbfQueueLatencyMs / 1000 + uint64_t{tbf.burst_bytes});
  return tbf;
}

// The fields a netem qdisc carries for `impairment`, in proto field order (for messages).
std::vector<std::string_view> NetemCarriedFields(const nslab::v1::Impairment& impairment) {
  std::vector<std::string_view> fields;
  auto add = [&](std::string_view field, bool set) {
    if (set) {
      fields.push_back(field);
    }
  };
  add("delay_us", impairment.delay_us() != 0);
  add("jitter_us", impairment.jitter_us() != 0);
  add("delay_correlation", impairment.delay_correlation() != 0);
  add("distribution", !nslab::v1::IsUniform(impairment.distribution()));
  add("loss", impairment.loss() > 0);
  add("loss_correlation", impairment.loss_correlation() != 0);
  add("gilbert_elliott", HasGilbertElliott(impairment));
  add("duplicate", impairment.duplicate() != 0);
  add("reorder", impairment.reorder() != 0);
  add("reorder_gap", impairment.reorder_gap() != 0);
  add("corrupt", impairment.corrupt() != 0);
  // netem's own rate; with burst_bytes the rate goes to a tbf under netem instead.
  add("rate_bps", impairment.rate_bps() != 0 && impairment.burst_bytes() == 0);
  add("limit_packets", impairment.limit_packets() != 0);
  return fields;
}

}  // namespace

absl::Status NetemMissingError(const std::vector<std::string_view>& fields) {
  return absl::FailedPreconditionError(absl::StrCat(
      "kernel has no sch_netem: ",
      // std::string_view is not absl::string_view in Debian's abseil: append by hand.
      absl::StrJoin(fields, ", ",
                    [](std::string* out, std::string_view field) { out->append(field); }),
      " need sch_netem; use mode: wire (or rate/loss only, which work without netem)"));
}

GilbertElliottParams TcGilbertElliott(const nslab::v1::GilbertElliott& ge) {
  GilbertElliottParams params;
  params.p = ScaledPercent(ge.p());
  params.r = ScaledPercent(ge.r());
  // set_percent(&gemodel.h, 1. - p) in iproute2's q_netem.c, p being the fraction typed.
  const double one_minus_h = std::clamp(ge.h(), 0.0, 100.0) / 100.0;
  params.h = static_cast<uint32_t>(std::rint((1.0 - one_minus_h) * static_cast<double>(kU32Max)));
  params.k1 = ScaledPercent(ge.k());
  return params;
}

absl::StatusOr<KernelPlan> PlanKernelImpairment(const nslab::v1::Impairment& impairment,
                                                const KernelFeatures& features, uint32_t link_mtu) {
  if (absl::Status status = ValidateImpairment(impairment); !status.ok()) {
    return status;
  }
  if (HasTrace(impairment)) {
    return absl::FailedPreconditionError(
        "trace_file: a delivery trace is the userspace wire's alone; use mode: wire");
  }

  // The fields only netem implements. Plain loss is not among them: without netem it goes to
  // the receiving end's nftables; with netem, netem takes it.
  std::vector<std::string_view> netem_only =
      KernelBackendSupport(impairment, /*has_netem=*/false).unsupported;
  KernelPlan plan;
  if (!netem_only.empty() && !features.netem) {
    return NetemMissingError(netem_only);
  }
  const bool use_netem = !netem_only.empty() || (features.netem && impairment.loss() > 0);

  if (use_netem) {
    plan.root = RootQdisc::kNetem;
    plan.netem_fields = NetemCarriedFields(impairment);
    absl::StatusOr<ImpairmentSpec> spec = CompileImpairment(impairment);
    if (!spec.ok()) {
      return spec.status();
    }
    plan.netem = *std::move(spec);
    if (HasGilbertElliott(impairment)) {
      plan.netem.loss = TcGilbertElliott(impairment.gilbert_elliott());
    }
    if (impairment.rate_bps() != 0) {
      if (impairment.rate_bps() < 8) {
        return absl::InvalidArgumentError(absl::StrCat(
            "rate_bps must be at least 8 (one byte per second), got ", impairment.rate_bps()));
      }
      if (impairment.burst_bytes() != 0) {
        if (!features.tbf) {
          return absl::FailedPreconditionError(
              "kernel has no sch_tbf: burst_bytes needs tbf; use mode: wire");
        }
        absl::StatusOr<TbfParams> tbf = TbfFor(impairment, link_mtu);
        if (!tbf.ok()) {
          return tbf.status();
        }
        plan.tbf = *tbf;
        plan.tbf_under_netem = true;
        plan.netem.rate_bps = 0;
        plan.netem.burst_bytes = 0;
      }
    }
    return plan;
  }

  if (impairment.rate_bps() != 0) {
    if (!features.tbf) {
      return absl::FailedPreconditionError(
          "kernel has no sch_tbf: rate_bps needs tbf; use mode: wire");
    }
    absl::StatusOr<TbfParams> tbf = TbfFor(impairment, link_mtu);
    if (!tbf.ok()) {
      return tbf.status();
    }
    plan.root = RootQdisc::kTbf;
    plan.tbf = *tbf;
    plan.pfifo_limit_packets = impairment.limit_packets();
  }
  // Without netem and without a rate there is no queue for limit_packets to limit.
  if (impairment.loss() > 0) {
    plan.ingress_loss_percent = impairment.loss();
  }
  return plan;
}

namespace {

std::string FlowLabel(const KernelFlow& flow) {
  if (!flow.label.empty()) {
    return flow.label;
  }
  return absl::StrCat("flow \"", FlowMatchText(flow.match), "\"");
}

}  // namespace

absl::StatusOr<KernelFlowsPlan> PlanKernelFlows(const nslab::v1::Impairment& link_impairment,
                                                const std::vector<KernelFlow>& flows,
                                                const KernelFeatures& features, uint32_t link_mtu) {
  KernelFlowsPlan plan;
  if (link_impairment.ByteSizeLong() != 0) {
    absl::StatusOr<KernelPlan> link = PlanKernelImpairment(link_impairment, features, link_mtu);
    if (!link.ok()) {
      return link.status();
    }
    plan.link = *std::move(link);
  }
  plan.egress_tree = plan.link.root != RootQdisc::kNone;
  plan.ingress_loss = plan.link.ingress_loss_percent > 0;
  int first_with_qdisc = -1;
  for (int i = 0; i < static_cast<int>(flows.size()); ++i) {
    const std::string what = absl::StrCat(FlowLabel(flows[i]), ": ");
    KernelPlan flow;
    if (flows[i].impairment.ByteSizeLong() != 0) {
      absl::StatusOr<KernelPlan> planned =
          PlanKernelImpairment(flows[i].impairment, features, link_mtu);
      if (!planned.ok()) {
        return absl::Status(planned.status().code(),
                            absl::StrCat(what, planned.status().message()));
      }
      flow = *std::move(planned);
    }
    if (flow.root != RootQdisc::kNone && first_with_qdisc < 0) {
      first_with_qdisc = i;
    }
    plan.egress_tree = plan.egress_tree || flow.root != RootQdisc::kNone;
    plan.ingress_loss = plan.ingress_loss || flow.ingress_loss_percent > 0;
    plan.flows.push_back(std::move(flow));
  }
  if (plan.egress_tree && !flows.empty() && !(features.htb && features.nft_egress)) {
    // Name a flow that needs the tree, or the first one when only the link's own does (its
    // qdisc must then let the flows' frames pass).
    const int named = first_with_qdisc >= 0 ? first_with_qdisc : 0;
    return absl::FailedPreconditionError(absl::StrCat(
        FlowLabel(flows[named]), ": ",
        "a flow beside a rate or netem on a veth needs sch_htb and nftables' netdev egress hook "
        "(Linux 5.16) to classify its frames; this kernel has ",
        features.htb ? "no netdev egress hook" : "no sch_htb", "; use mode: wire"));
  }
  return plan;
}

}  // namespace nslab::impair::kernel
