#pragma once

#include <string_view>
#include <vector>

#include "nslab/v1/topology.pb.h"

namespace nslab::impair {

// What the kernel backend (qdiscs on a veth) can do for one direction's Impairment. A pure
// decision, used for `mode: auto` (veth when `unsupported` is empty, else wire) and for the
// FAILED_PRECONDITION a `mode: veth` link gets otherwise.
struct KernelSupport {
  // Proto field names the kernel cannot honour here, in field order. trace_file always needs
  // the wire; without sch_netem so does everything but rate and plain loss.
  std::vector<std::string_view> unsupported;
  // Which mechanisms the kernel backend needs for the fields it can honour.
  bool netem = false;     // netem qdisc: delay, jitter, loss models, duplicate, reorder, corrupt
  bool tbf = false;       // tbf qdisc: rate_bps, burst_bytes (limit_packets when netem is absent)
  bool nft_drop = false;  // `numgen random` drop in netdev ingress of the receiving end: loss
                          // without netem (silent, as on a wire; see DESIGN.md)

  bool ok() const { return unsupported.empty(); }
};

// `has_netem`: whether this kernel has sch_netem (probed at daemon start).
KernelSupport KernelBackendSupport(const nslab::v1::Impairment& impairment, bool has_netem);

// One Impairment field and how the kernel backend does it, or why it cannot.
struct ParameterSupport {
  std::string_view parameter;
  bool kernel = false;
  std::string_view how;  // "netem", "tbf", "nftables netdev drop", or the reason it cannot
};

// Every Impairment field, in proto order, as the kernel backend handles it on its own.
std::vector<ParameterSupport> KernelSupportByParameter(bool has_netem, bool has_tbf);

}  // namespace nslab::impair
