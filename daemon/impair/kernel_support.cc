#include "daemon/impair/kernel_support.h"

#include "daemon/impair/validate.h"

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
  needs_netem("distribution", impairment.distribution() != nslab::v1::DELAY_DISTRIBUTION_UNIFORM);
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
  if (!impairment.trace_file().empty()) {
    support.unsupported.push_back("trace_file");  // the wire's alone
  }
  return support;
}

}  // namespace nslab::impair
