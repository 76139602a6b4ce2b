#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "daemon/impair/kernel/kernel_plan.h"
#include "nslab/v1/labs.pb.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {

// One direction of a veth link: impairments go on the sending end's egress (qdiscs) and,
// for loss without netem, the receiving end's ingress (an nftables drop, silent as a
// wire is).
struct LinkDirection {
  std::string send_netns;
  std::string send_interface;
  std::string receive_netns;
  std::string receive_interface;
  uint32_t mtu = 1500;
  // Seeds netem's generator where the kernel takes a seed: SeedFor(lab seed, link label, this
  // direction), the seed the wire would use for the same link.
  uint64_t fate_seed = 0;
};

// The two directions of `link` in lab `lab` seeded with `lab_seed`: [0] a -> b, [1] b -> a.
std::array<LinkDirection, 2> DirectionsOf(const std::string& lab, const nslab::v1::Link& link,
                                          uint64_t lab_seed);

// What each direction of a link asks for in its topology: a_to_b / b_to_a where given,
// else `impair`.
std::array<nslab::v1::Impairment, 2> RequestedImpairments(const nslab::v1::Link& link);

// What each direction's flows are in the topology ([0] a -> b, [1] b -> a), in order: a flow
// is in a direction when it has an impairment there (a_to_b / b_to_a, else `impair`).
std::array<std::vector<nslab::v1::FlowImpairmentState>, 2> RequestedFlows(
    const nslab::v1::Link& link);

// The flows of one direction as the kernel backend takes them.
std::vector<impair::kernel::KernelFlow> KernelFlowsOf(
    const google::protobuf::RepeatedPtrField<nslab::v1::FlowImpairmentState>& flows);
std::vector<impair::kernel::KernelFlow> KernelFlowsOf(
    const std::vector<nslab::v1::FlowImpairmentState>& flows);

// Applies (or, for an empty impairment and no flows, clears) one direction through the kernel
// backend: `impairment` for the frames no flow matches, each flow's for the frames it matches
// first (impair/kernel/flow_rules.h: an htb tree and an egress classifier on the sending end
// where a qdisc is needed, the numgen drops on the receiving end for loss without netem).
// Whatever an earlier call installed and this one does not need is removed. Everything is
// planned before the kernel is touched: INVALID_ARGUMENT or FAILED_PRECONDITION (naming the
// flow, and saying "use mode: wire" for what this kernel cannot do) change nothing.
absl::Status ApplyLinkDirection(const LinkDirection& direction,
                                const nslab::v1::Impairment& impairment,
                                const std::vector<impair::kernel::KernelFlow>& flows,
                                const impair::kernel::KernelFeatures& features);
absl::Status ApplyLinkDirection(const LinkDirection& direction,
                                const nslab::v1::Impairment& impairment,
                                const impair::kernel::KernelFeatures& features);

// What the kernel has counted for each of a direction's flows (`flows`, as applied by
// ApplyLinkDirection), into their counters: offered and bytes are the frames the flow matched
// (a GSO frame of up to 64 KiB counts once), dropped_loss what its numgen drop or netem took,
// dropped_queue_full its tbf's drops, queue_depth what its qdisc holds now, forwarded what
// went on. Best effort: a counter the kernel cannot be asked for stays 0.
void ReadKernelFlowCounters(
    const LinkDirection& direction,
    google::protobuf::RepeatedPtrField<nslab::v1::FlowImpairmentState>* flows);

}  // namespace nslab::lab
