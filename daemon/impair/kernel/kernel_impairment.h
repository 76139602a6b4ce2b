#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/impair/kernel/kernel_plan.h"
#include "daemon/netlink/route_socket.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::impair::kernel {

// The kernel backend for link impairments: qdiscs on the sending interface of a link, set
// over the namespace's own NETLINK_ROUTE socket. (Loss without netem is the receiving end's
// nftables drop: see ingress_loss.h.)
//
// nslab's root qdiscs have handle 4e53: ("NS") or 4e54: ("NT"); a child, when there is one,
// 4e55:. Two root handles because the kernel changes a qdisc in place only within its kind
// (tbf -> netem under the same handle is EINVAL "Invalid qdisc name"), and netem, even then,
// keeps settings it is not sent again (a delay table, correlations). So every change that is
// not tbf -> tbf builds a fresh root under the other handle, and the kernel swaps it in for the
// old one in a single graft: the link is never without its impairment, and a request the
// kernel refuses leaves the previous impairment in place.
inline constexpr uint32_t kRootHandle = 0x4e530000;
inline constexpr uint32_t kAltRootHandle = 0x4e540000;
inline constexpr uint32_t kChildHandle = 0x4e550000;

bool IsNslabRootHandle(uint32_t handle);

// An interface's root qdisc as the kernel reports it.
struct RootQdiscInfo {
  std::string kind;                 // e.g. "noqueue", veth's default
  uint32_t handle = 0;              // 0: the kernel's default qdisc, which nobody installed
  bool installed_by_nslab = false;  // handle is ours and kind is netem or tbf
  std::string child_kind;           // the visible qdisc under class handle:1, if any
};

absl::StatusOr<RootQdiscInfo> ReadRootQdisc(const netlink::RouteSocket& sock,
                                            const std::string& ifname);

// Installs `impairment` (one direction) on `ifname`, the sending end, replacing what nslab
// installed there before (see PlanKernelImpairment for which qdiscs). Calling it again
// changes the impairment at runtime; an impairment that needs no qdisc (nothing set, or only
// loss without netem) removes nslab's.
//
// The receiving end's part is the caller's: when
// PlanKernelImpairment(impairment, features, mtu)->ingress_loss_percent > 0, apply
// RenderIngressLossRuleset(<receiving interface>, that) in the receiving namespace.
//
// Errors, each naming the interface:
//   INVALID_ARGUMENT     a field out of range (ValidateImpairment), or a value the kernel
//                        refuses (with the kernel's extended-ACK message);
//   FAILED_PRECONDITION  netem needed but missing, from `features` or from the kernel's own
//                        ENOENT/EOPNOTSUPP: "kernel has no sch_netem: <fields> need sch_netem; use
//                        mode: wire (or rate/loss only, which work without netem)"; likewise
//                        tbf; a root qdisc there that nslab did not install (left untouched);
//   NOT_FOUND            no such interface.
// On an error nothing changed, except when a child qdisc fails after its fresh root went
// in: then nslab's qdiscs are removed and the link is left unimpaired.
// `fate_seed` seeds netem's generator where `features.netem_seed` says the kernel takes it.
absl::Status ApplyKernelImpairment(const netlink::RouteSocket& sock, const std::string& ifname,
                                   const nslab::v1::Impairment& impairment,
                                   const KernelFeatures& features, uint64_t fate_seed = 0);

// Whether netem on this kernel takes a seed (TCA_NETEM_PRNG_SEED, Linux 6.7): installs a netem
// with a known seed on `ifname` (a scratch interface without a root qdisc), reads it back, and
// removes it. Kernels before 6.7 ignore the attribute and do not report it back:
// FAILED_PRECONDITION saying so; NOT_FOUND without sch_netem.
absl::Status ProbeNetemSeed(const netlink::RouteSocket& sock, const std::string& ifname);

// The classes of a flow tree that ApplyKernelFlowTree built: the priorities the classifier
// (RenderFlowClassifierRuleset) gives each flow's frames and the rest.
struct FlowTreeClasses {
  uint32_t root = 0;  // the htb's handle: as a priority, htb's unshaped direct queue
  std::vector<uint32_t> flow_priorities;  // one per flow: its class, or `root`
  uint32_t default_priority = 0;          // frames no flow matches: the link's class, or `root`
};

// Installs the sending side of `plan` (plan.egress_tree) on `ifname`: an htb root, always
// fresh under the nslab root handle not in use and swapped for the old root in one graft; a
// class for the link's own impairment and for each flow whose plan has a qdisc, each class
// unshaped itself, with that plan's netem or tbf (and its child) as its leaf. A flow's netem is
// seeded with its entry of `flow_seeds` (one per flow), the link's with `link_seed`, where
// `features.netem_seed` says the kernel takes a seed. The receiving side's loss and the
// classifier are the caller's. Errors as ApplyKernelImpairment's; a leaf the kernel refuses
// takes the whole tree with it, leaving the link unimpaired.
absl::StatusOr<FlowTreeClasses> ApplyKernelFlowTree(
    const netlink::RouteSocket& sock, const std::string& ifname, const KernelFlowsPlan& plan,
    const KernelFeatures& features, uint64_t link_seed, const std::vector<uint64_t>& flow_seeds);

// What a leaf qdisc of a flow tree has counted (`tc -s qdisc`).
struct LeafStats {
  bool found = false;  // no qdisc under that class (or the class is htb's direct queue)
  std::string kind;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t drops = 0;
  uint64_t queued = 0;  // packets held now
};

// The leaves under `classids` on `ifname`, in that order.
absl::StatusOr<std::vector<LeafStats>> ReadFlowTreeLeaves(const netlink::RouteSocket& sock,
                                                          const std::string& ifname,
                                                          const std::vector<uint32_t>& classids);

// Removes the root qdisc nslab installed on `ifname` (the kernel then restores the default
// qdisc); OK when there is none. Never deletes a qdisc nslab did not install: the delete
// names handle and kind, and the kernel refuses it if either differs.
absl::Status ClearKernelImpairment(const netlink::RouteSocket& sock, const std::string& ifname);

}  // namespace nslab::impair::kernel
