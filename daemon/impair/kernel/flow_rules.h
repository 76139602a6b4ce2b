#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::impair::kernel {

// Flow-scoped impairments on a veth (the kernel backend's side of topology `flows:`), said as
// nftables rules. Two tables per direction, each the direction's alone, replaced whole in one
// transaction at every change:
//
//   - the classifier, a netdev table on the *sending* interface's egress hook, sets each
//     frame's priority (SO_PRIORITY's skb->priority) to the htb class that carries it: the
//     first matching flow's class, or the class of the direction's own impairment for frames
//     no flow matches. htb takes a priority naming one of its classes as the classification
//     (htb_classify), so no tc filter is needed: this kernel may have no cls_fw or cls_flower,
//     and u32 cannot look through IPv6 extension headers as the wire's matcher does.
//     Every frame gets a priority, so a priority left by an earlier hop (a frame forwarded or
//     bridged from another impaired link) never picks one of this tree's classes by accident.
//   - the loss, a netdev table on the *receiving* interface's ingress hook (IngressLossTableName,
//     as the link's own loss without netem uses): each flow's numgen drop, then the link's own
//     drop for frames no flow matched. A matched frame that is not dropped is accepted at once,
//     so only the first matching flow decides.
//
// Each flow has a chain of its own, "flow_<index>" (its position in the direction's flows), so
// its counters are found by name: FlowChainName.
//
// Matches keep the wire's meaning (FlowMatcher in flow_match.h): protocol, addresses and ports
// through IPv4 options and IPv6 extension headers (nftables' transport offset), a port condition
// never holds for a fragment (the first one included, which nftables alone would read ports of),
// non-IP frames match nothing but the empty match. Unlike the wire, 802.1Q-tagged frames are not
// looked through: a frame that reaches the hook with its tag in the payload matches no match
// that names an address, protocol or port.

// "nslab_flows_<ifname>".
std::string FlowClassifierTableName(absl::string_view ifname);

// "flow_<index>".
std::string FlowChainName(int index);

// The nftables conditions that select what `match` selects, one alternative per line of the
// result: two (IPv4, IPv6) when ports are matched and no address or ICMP fixes the family, as
// each family excludes its fragments in its own words; otherwise one. The empty match is one
// empty condition (every frame). INVALID_ARGUMENT for a match ValidateFlowMatch refuses.
absl::StatusOr<std::vector<std::string>> FlowMatchConditions(const nslab::v1::FlowMatch& match);

// One flow of one direction, as the classifier and the loss table need it.
struct KernelFlowRule {
  nslab::v1::FlowMatch match;
  // The priority its frames get at the sender: an htb class id (major:minor), or the htb
  // root's own handle, which htb sends straight to the device unshaped.
  uint32_t priority = 0;
  // > 0: the share of its frames the receiving end drops (numgen); 0: none.
  double loss_percent = 0;
};

// nft commands that install, or replace, the classifier on `ifname`; frames no flow matches get
// `default_priority`. INVALID_ARGUMENT for a bad interface name or match.
absl::StatusOr<std::string> RenderFlowClassifierRuleset(absl::string_view ifname,
                                                        const std::vector<KernelFlowRule>& flows,
                                                        uint32_t default_priority);

// Removes the classifier of `ifname`; succeeds whether or not it exists.
absl::StatusOr<std::string> RenderFlowClassifierRemoval(absl::string_view ifname);

// nft commands that install, or replace, the receiving end's loss table on `ifname` with the
// flows' drops and, for frames no flow matched, `link_loss_percent` (0: none). Losses are in
// (0..100] or 0, with 0.0001% resolution. `numgen random` takes no seed: these losses do not
// replay, unlike the wire's and netem's where the kernel takes a seed.
absl::StatusOr<std::string> RenderIngressFlowLossRuleset(absl::string_view ifname,
                                                         const std::vector<KernelFlowRule>& flows,
                                                         double link_loss_percent);

}  // namespace nslab::impair::kernel
