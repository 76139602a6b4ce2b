#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/impair/spec.h"

struct nl_msg;

namespace nslab::impair::kernel {

// The RTM_{NEW,DEL}QDISC requests of the kernel backend, built byte for byte as iproute2's tc
// builds them (tc 6.1; the unit tests hold captures of its sendmsg). Pure: nothing here sends.
//
// Built with nla_* by hand rather than with libnl's rtnl_netem_* setters: libnl 3.7 has no
// setter for the Gilbert-Elliott and 4-state loss models, for netem's rate or for the 64-bit
// latency, and its netem writer patches TCA_OPTIONS' length after the fact. tbf is built the
// same way for TCA_TBF_BURST and TCA_TBF_RATE64, which libnl does not send.

struct NlMsgFree {
  void operator()(nl_msg* msg) const;
};
using NlMsgPtr = std::unique_ptr<nl_msg, NlMsgFree>;

// The struct tcmsg of a request: which interface, which qdisc handle, where it hangs.
struct QdiscTarget {
  int ifindex = 0;
  uint32_t handle = 0;  // major:0
  uint32_t parent = 0;  // TC_H_ROOT, or major:minor of a class
};

// The kernel's scheduler clock: netem's and tbf's u32 times are in ticks of 64 ns
// (PSCHED_SHIFT = 6; /proc/net/psched reads "000003e8 00000040 ..." on every kernel since
// 2.6.31), so tc's 15.625 ticks per microsecond.
inline constexpr int64_t kNsPerTick = 64;

// RTM_NEWQDISC for a netem qdisc carrying `spec`: tc_netem_qopt (latency, limit, random loss,
// gap, duplicate, jitter) followed by TCA_NETEM_CORR, _REORDER, _CORRUPT, _LOSS (Gilbert-Elliott
// or 4-state), _RATE64/_RATE and _DELAY_DIST, each only when used, in tc's order. A delay too
// long for 32-bit ticks (> ~274 s; tc refuses those) also goes in TCA_NETEM_LATENCY64.
// spec.rate_bps, when non-zero, becomes netem's own rate; spec.burst_bytes is ignored (netem's
// rate has no burst: the caller puts a tbf under netem for that). INVALID_ARGUMENT when spec
// carries a trace (the wire's alone) or a table larger than the kernel takes.
// Flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE.
//
// `prng_seed`, when given, goes in TCA_NETEM_PRNG_SEED, which seeds netem's own generator on
// Linux 6.7 and later (older kernels ignore an attribute beyond their TCA_NETEM_MAX, so it is
// sent only where ProbeNetemSeed found it taken). It seeds one stream for all of the qdisc's
// traffic: not the wire's stream per traffic class (FateEngine), so other traffic crossing
// the link still shifts which probes meet which fate.
absl::StatusOr<NlMsgPtr> BuildNetemRequest(const QdiscTarget& target, const ImpairmentSpec& spec,
                                           std::optional<uint64_t> prng_seed = std::nullopt);

// TCA_NETEM_PRNG_SEED (Linux 6.7, include/uapi/linux/pkt_sched.h), missing from the 6.1 uapi
// header nslab builds against.
inline constexpr uint16_t kTcaNetemPrngSeed = 14;

// tbf's parameters, in the units the kernel takes.
struct TbfParams {
  uint64_t rate_bytes_per_s = 0;
  uint32_t burst_bytes = 0;  // bucket size; frames longer than this are dropped (unless GSO)
  uint32_t limit_bytes = 0;  // bytes queued behind the bucket
};

// RTM_NEWQDISC for tbf: TCA_TBF_PARMS (tc's tc_tbf_qopt, buffer in ticks as tc computes it),
// TCA_TBF_BURST, and TCA_TBF_RATE64 for rates of 2^32 bytes/s and more. tc also sends a
// 1 KiB rate table (TCA_TBF_RTAB); the kernel reads it only for ratespecs with
// linklayer "unaware", and ours says ethernet, as tc's does, so none is sent.
absl::StatusOr<NlMsgPtr> BuildTbfRequest(const QdiscTarget& target, const TbfParams& params);

// RTM_NEWQDISC for a packet fifo of `limit_packets` (the queue under tbf when limit_packets
// is set without netem).
absl::StatusOr<NlMsgPtr> BuildPfifoRequest(const QdiscTarget& target, uint32_t limit_packets);

// RTM_NEWQDISC for an htb root (the kernel backend's flows): TCA_HTB_INIT with tc's version 3
// and r2q 10, unclassified frames to class major:`default_minor` (0: sent straight on).
absl::StatusOr<NlMsgPtr> BuildHtbRequest(const QdiscTarget& target, uint32_t default_minor);

// RTM_NEWTCLASS for the htb class `target.handle` (major:minor) under `target.parent`, with
// rate = ceil = `rate_bytes_per_s` (TCA_HTB_RATE64/CEIL64 past 2^32-1), a bucket of
// `buffer_ticks` and an explicit DRR quantum, so that htb computes none from r2q.
absl::StatusOr<NlMsgPtr> BuildHtbClassRequest(const QdiscTarget& target, uint64_t rate_bytes_per_s,
                                              uint32_t buffer_ticks, uint32_t quantum);

// RTM_DELQDISC for exactly the qdisc `target.handle` of `kind` at `target.parent`: the kernel
// refuses it (EINVAL) when the qdisc there has another handle or kind, so a delete can never
// remove a qdisc that is not the one named.
absl::StatusOr<NlMsgPtr> BuildDeleteQdiscRequest(const QdiscTarget& target,
                                                 const std::string& kind);

}  // namespace nslab::impair::kernel
