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

// Applies (or, for an empty impairment, clears) one direction through the kernel backend.
// FAILED_PRECONDITION names what this kernel cannot do.
absl::Status ApplyLinkDirection(const LinkDirection& direction,
                                const nslab::v1::Impairment& impairment,
                                const impair::kernel::KernelFeatures& features);

}  // namespace nslab::lab
