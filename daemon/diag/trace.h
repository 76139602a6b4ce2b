#pragma once

#include "absl/status/statusor.h"
#include "daemon/lab/lab_registry.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

// Sends one probe (TCP SYN, UDP datagram or ICMP echo) from a node and follows it through
// the lab: the route decision at every hop (RTM_GETROUTE with the probe's addresses and
// input interface), nftables trace events (a temporary `nslab_trace_*` table per node,
// removed afterwards), captures on every interface of the path armed before the probe
// leaves, egress qdisc drops, and the final verdict with its reason. IPv4 only.
absl::StatusOr<nslab::v1::TraceResponse> RunTrace(lab::LabRegistry* labs,
                                                  const nslab::v1::TraceRequest& request);

}  // namespace nslab::diag
