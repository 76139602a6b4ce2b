#include "daemon/impair/kernel_support.h"

#include "daemon/impair/validate.h"
#include "proto/enum_defaults.h"

namespace nslab::impair {

KernelSupport KernelBackendSupport(const nslab::v1::Impairment& impairment, bool has_netem) {
  KernelSupport support;
  // A field netem implements: honoured with netem, unsupported without it.
  auto needs_netem = [&](std::string_view field, bool set) {
    if (!set) {
      return;
    }
    if (has_netem) {
      support.netem = true;
    } else {
      support.unsupported.push_back(field);
    }
  };
  // In proto field order, so that messages built from the list are stable.
  needs_netem("delay_us", impairment.delay_us() != 0);
  needs_netem("jitter_us", impairment.jitter_us() != 0);
  needs_netem("delay_correlation", impairment.delay_correlation() != 0);
  needs_netem("distribution", !nslab::v1::IsUniform(impairment.distribution()));
  if (impairment.loss() > 0 && !has_netem && impairment.loss_correlation() == 0) {
    support.nft_drop = true;  // plain loss has a fallback; correlated loss does not
  } else {
    needs_netem("loss", impairment.loss() > 0);
  }
  needs_netem("loss_correlation", impairment.loss_correlation() != 0);
  needs_netem("gilbert_elliott", HasGilbertElliott(impairment));
  needs_netem("duplicate", impairment.duplicate() != 0);
  needs_netem("reorder", impairment.reorder() != 0);
  needs_netem("reorder_gap", impairment.reorder_gap() != 0);
  needs_netem("corrupt", impairment.corrupt() != 0);
  // rate_bps and burst_bytes: tbf, with or without netem (netem's own rate has no burst).
  // limit_packets: netem's limit when netem is there, else a packet fifo under tbf; without
  // either there is no queue to limit.
  support.tbf = impairment.rate_bps() != 0;
  if (HasTrace(impairment)) {
    support.unsupported.push_back("trace_file");  // the wire's alone
  }
  return support;
}

std::vector<ParameterSupport> KernelSupportByParameter(bool has_netem, bool has_tbf) {
  using nslab::v1::Impairment;
  // A minimal impairment that sets just this field (and what it needs to mean anything).
  struct Probe {
    std::string_view parameter;
    void (*set)(Impairment&);
  };
  static constexpr Probe kProbes[] = {
      {"delay_us", [](Impairment& i) { i.set_delay_us(1000); }},
      {"jitter_us", [](Impairment& i) { i.set_jitter_us(1000); }},
      {"delay_correlation", [](Impairment& i) { i.set_delay_correlation(25); }},
      {"distribution",
       [](Impairment& i) { i.set_distribution(nslab::v1::DELAY_DISTRIBUTION_NORMAL); }},
      {"loss", [](Impairment& i) { i.set_loss(1); }},
      {"loss_correlation", [](Impairment& i) { i.set_loss_correlation(25); }},
      {"gilbert_elliott", [](Impairment& i) { i.mutable_gilbert_elliott()->set_p(1); }},
      {"duplicate", [](Impairment& i) { i.set_duplicate(1); }},
      {"reorder", [](Impairment& i) { i.set_reorder(1); }},
      {"reorder_gap", [](Impairment& i) { i.set_reorder_gap(5); }},
      {"corrupt", [](Impairment& i) { i.set_corrupt(1); }},
      {"rate_bps", [](Impairment& i) { i.set_rate_bps(1'000'000); }},
      {"burst_bytes", [](Impairment& i) { i.set_rate_bps(1'000'000), i.set_burst_bytes(3000); }},
      {"limit_packets", [](Impairment& i) { i.set_rate_bps(1'000'000), i.set_limit_packets(100); }},
      {"trace_file", [](Impairment& i) { i.set_trace_file("trace"); }},
  };
  std::vector<ParameterSupport> result;
  for (const Probe& probe : kProbes) {
    Impairment impairment;
    probe.set(impairment);
    const KernelSupport support = KernelBackendSupport(impairment, has_netem);
    ParameterSupport row{.parameter = probe.parameter, .kernel = false, .how = {}};
    if (!support.ok()) {
      row.how = probe.parameter == "trace_file" ? "wire only" : "needs sch_netem (not loaded)";
    } else if (support.tbf && !support.netem) {
      row.kernel = has_tbf;
      row.how = has_tbf ? "tbf" : "needs sch_tbf (not loaded)";
    } else if (support.nft_drop) {
      row.kernel = true;
      row.how = "nftables netdev drop (numgen random)";
    } else {
      row.kernel = true;
      row.how = "netem";
    }
    result.push_back(row);
  }
  return result;
}

}  // namespace nslab::impair
