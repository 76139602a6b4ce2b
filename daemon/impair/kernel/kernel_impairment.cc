#include "daemon/impair/kernel/kernel_impairment.h"

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/status_macros.h"
#include "daemon/impair/kernel/qdisc_messages.h"

namespace nslab::impair::kernel {
namespace {

struct LinkRef {
  int ifindex = 0;
  uint32_t mtu = 0;
};

absl::Status WithIfname(const std::string& ifname, const absl::Status& status) {
  if (status.ok()) {
    return status;
  }
  return absl::Status(status.code(), absl::StrCat(ifname, ": ", status.message()));
}

std::string HandleText(uint32_t handle) { return absl::StrFormat("%x:", handle >> 16); }

absl::StatusOr<LinkRef> LookupLink(const netlink::RouteSocket& sock, const std::string& ifname) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(sock.get(), 0, ifname.c_str(), &link); err < 0) {
    return netlink::NlStatus(absl::StrCat("look up interface ", ifname), err);
  }
  std::unique_ptr<rtnl_link, void (*)(rtnl_link*)> owner(link, rtnl_link_put);
  return LinkRef{rtnl_link_get_ifindex(link), rtnl_link_get_mtu(link)};
}

absl::StatusOr<RootQdiscInfo> ReadRoot(const netlink::RouteSocket& sock, int ifindex) {
  nl_cache* cache = nullptr;
  if (int err = rtnl_qdisc_alloc_cache(sock.get(), &cache); err < 0) {
    return netlink::NlStatus("list qdiscs", err);
  }
  std::unique_ptr<nl_cache, void (*)(nl_cache*)> cache_owner(cache, nl_cache_free);
  using QdiscPtr = std::unique_ptr<rtnl_qdisc, void (*)(rtnl_qdisc*)>;
  RootQdiscInfo info;
  QdiscPtr root(rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT), rtnl_qdisc_put);
  if (root == nullptr) {
    return info;  // not reported: the default
  }
  const char* kind = rtnl_tc_get_kind(TC_CAST(root.get()));
  info.kind = kind != nullptr ? kind : "";
  info.handle = rtnl_tc_get_handle(TC_CAST(root.get()));
  info.installed_by_nslab = IsNslabRootHandle(info.handle) &&
                            (info.kind == "netem" || info.kind == "tbf" || info.kind == "htb");
  if (info.handle != 0) {
    QdiscPtr child(rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_MAKE(info.handle, 1)),
                   rtnl_qdisc_put);
    if (child != nullptr) {
      const char* child_kind = rtnl_tc_get_kind(TC_CAST(child.get()));
      info.child_kind = child_kind != nullptr ? child_kind : "?";
    }
  }
  return info;
}

// The kernel's answer to one request: 0 or a positive errno, and the extended-ACK message
// (e.g. "Specified qdisc kind is unknown.") when it sent one.
struct KernelAnswer {
  int error = 0;
  std::string message;
};

int OnError(sockaddr_nl* /*from*/, nlmsgerr* err, void* arg) {
  auto* answer = static_cast<KernelAnswer*>(arg);
  answer->error = -err->error;
  // libnl hands over the payload of the NLMSG_ERROR message; its header sits just before.
  const auto* header =
      reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(err) - NLMSG_HDRLEN);
  if ((header->nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
    return NL_STOP;
  }
  // The TLVs follow the echoed request, which is only its header when NLM_F_CAPPED.
  size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if ((header->nlmsg_flags & NLM_F_CAPPED) == 0 && err->msg.nlmsg_len > NLMSG_HDRLEN) {
    offset += NLMSG_ALIGN(err->msg.nlmsg_len - NLMSG_HDRLEN);
  }
  const char* base = reinterpret_cast<const char*>(header);
  while (offset + NLA_HDRLEN <= header->nlmsg_len) {
    const auto* attr = reinterpret_cast<const nlattr*>(base + offset);
    if (attr->nla_len < NLA_HDRLEN || offset + attr->nla_len > header->nlmsg_len) {
      break;
    }
    if ((attr->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && attr->nla_len > NLA_HDRLEN) {
      const char* text = base + offset + NLA_HDRLEN;
      answer->message.assign(text, strnlen(text, attr->nla_len - NLA_HDRLEN));
    }
    offset += NLA_ALIGN(attr->nla_len);
  }
  return NL_STOP;
}

int OnAck(nl_msg* /*msg*/, void* /*arg*/) { return NL_STOP; }

// Sends one request and waits for its ACK, keeping the errno and the kernel's message (libnl
// 3.7's nl_wait_for_ack keeps neither).
absl::StatusOr<KernelAnswer> Transact(const netlink::RouteSocket& sock, nl_msg* msg) {
  // Ask for extended ACKs; harmless to anyone else using the socket.
  const int one = 1;
  ::setsockopt(nl_socket_get_fd(sock.get()), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  if (int err = nl_send_auto(sock.get(), msg); err < 0) {
    return netlink::NlStatus("send qdisc request", err);
  }
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> socket_cb(nl_socket_get_cb(sock.get()), nl_cb_put);
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_clone(socket_cb.get()), nl_cb_put);
  if (cb == nullptr) {
    return absl::ResourceExhaustedError("nl_cb_clone failed");
  }
  KernelAnswer answer;
  nl_cb_err(cb.get(), NL_CB_CUSTOM, OnError, &answer);
  nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, OnAck, nullptr);
  const int err = nl_recvmsgs(sock.get(), cb.get());
  if (answer.error == 0 && err < 0) {
    return netlink::NlStatus("receive qdisc answer", err);
  }
  return answer;
}

// `what` names the step ("add tbf qdisc 4e53: on eth0").
absl::Status AnswerStatus(absl::string_view what, const KernelAnswer& answer) {
  if (answer.error == 0) {
    return absl::OkStatus();
  }
  return ErrnoStatus(
      answer.message.empty() ? std::string(what) : absl::StrCat(what, ": ", answer.message),
      answer.error);
}

bool KindMissing(const KernelAnswer& answer) {
  return answer.error == ENOENT || answer.error == EOPNOTSUPP;
}

absl::Status Send(const netlink::RouteSocket& sock, absl::StatusOr<NlMsgPtr> request,
                  absl::string_view what, KernelAnswer* answer) {
  if (!request.ok()) {
    return request.status();
  }
  NSLAB_ASSIGN_OR_RETURN(*answer, Transact(sock, request->get()));
  return AnswerStatus(what, *answer);
}

absl::Status DeleteRoot(const netlink::RouteSocket& sock, const std::string& ifname, int ifindex,
                        uint32_t handle, const std::string& kind) {
  KernelAnswer answer;
  return Send(sock, BuildDeleteQdiscRequest({ifindex, handle, TC_H_ROOT}, kind),
              absl::StrCat("delete ", kind, " qdisc ", HandleText(handle), " on ", ifname),
              &answer);
}

// What a qdisc dump says of one netem root: whether it carries TCA_NETEM_PRNG_SEED, and which.
struct SeedReport {
  int ifindex = 0;
  uint32_t handle = 0;
  bool found = false;  // the qdisc was in the dump
  bool has_seed = false;
  uint64_t seed = 0;
};

int OnQdiscDumped(nl_msg* msg, void* arg) {
  auto* report = static_cast<SeedReport*>(arg);
  nlmsghdr* header = nlmsg_hdr(msg);
  if (header->nlmsg_type != RTM_NEWQDISC ||
      header->nlmsg_len < NLMSG_LENGTH(static_cast<int>(sizeof(tcmsg)))) {
    return NL_OK;
  }
  const auto* tcm = static_cast<const tcmsg*>(nlmsg_data(header));
  if (tcm->tcm_ifindex != report->ifindex || tcm->tcm_handle != report->handle) {
    return NL_OK;
  }
  report->found = true;
  nlattr* options = nlmsg_find_attr(header, sizeof(tcmsg), TCA_OPTIONS);
  // netem's options: a tc_netem_qopt, then attributes.
  constexpr int kQoptBytes = NLA_ALIGN(sizeof(tc_netem_qopt));
  if (options == nullptr || nla_len(options) < kQoptBytes) {
    return NL_OK;
  }
  auto* first = reinterpret_cast<nlattr*>(static_cast<char*>(nla_data(options)) + kQoptBytes);
  nlattr* seed = nla_find(first, nla_len(options) - kQoptBytes, kTcaNetemPrngSeed);
  if (seed != nullptr && nla_len(seed) == sizeof(uint64_t)) {
    report->has_seed = true;
    std::memcpy(&report->seed, nla_data(seed), sizeof(uint64_t));
  }
  return NL_OK;
}

absl::StatusOr<SeedReport> DumpSeed(const netlink::RouteSocket& sock, int ifindex,
                                    uint32_t handle) {
  tcmsg request{};
  request.tcm_family = AF_UNSPEC;
  request.tcm_ifindex = ifindex;
  if (int err = nl_send_simple(sock.get(), RTM_GETQDISC, NLM_F_DUMP, &request, sizeof(request));
      err < 0) {
    return netlink::NlStatus("dump qdiscs", err);
  }
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> socket_cb(nl_socket_get_cb(sock.get()), nl_cb_put);
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_clone(socket_cb.get()), nl_cb_put);
  if (cb == nullptr) {
    return absl::ResourceExhaustedError("nl_cb_clone failed");
  }
  SeedReport report{.ifindex = ifindex, .handle = handle};
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, OnQdiscDumped, &report);
  if (int err = nl_recvmsgs(sock.get(), cb.get()); err < 0) {
    return netlink::NlStatus("read qdisc dump", err);
  }
  return report;
}

}  // namespace

absl::Status ProbeNetemSeed(const netlink::RouteSocket& sock, const std::string& ifname) {
  // "nslab" in ASCII: any value the kernel would not make up.
  constexpr uint64_t kProbeSeed = 0x6e736c6162;
  NSLAB_ASSIGN_OR_RETURN(LinkRef link, LookupLink(sock, ifname));
  const QdiscTarget root{link.ifindex, kRootHandle, TC_H_ROOT};
  KernelAnswer answer;
  if (absl::Status added = Send(sock, BuildNetemRequest(root, ImpairmentSpec{}, kProbeSeed),
                                absl::StrCat("add netem qdisc on ", ifname), &answer);
      !added.ok()) {
    return KindMissing(answer) ? absl::NotFoundError("kernel has no sch_netem") : added;
  }
  absl::StatusOr<SeedReport> report = DumpSeed(sock, link.ifindex, kRootHandle);
  absl::Status removed = DeleteRoot(sock, ifname, link.ifindex, kRootHandle, "netem");
  NSLAB_RETURN_IF_ERROR(report.status());
  NSLAB_RETURN_IF_ERROR(removed);
  if (!report->found) {
    return absl::InternalError(absl::StrCat("the netem just added on ", ifname,
                                            " is missing from the kernel's qdisc dump"));
  }
  if (!report->has_seed || report->seed != kProbeSeed) {
    return absl::FailedPreconditionError(
        "this kernel's netem ignores TCA_NETEM_PRNG_SEED (Linux 6.7 and later take it): "
        "kernel-backend fates are not seeded; mode: wire replays them");
  }
  return absl::OkStatus();
}

bool IsNslabRootHandle(uint32_t handle) {
  return handle == kRootHandle || handle == kAltRootHandle;
}

absl::StatusOr<RootQdiscInfo> ReadRootQdisc(const netlink::RouteSocket& sock,
                                            const std::string& ifname) {
  NSLAB_ASSIGN_OR_RETURN(LinkRef link, LookupLink(sock, ifname));
  return ReadRoot(sock, link.ifindex);
}

absl::Status ApplyKernelImpairment(const netlink::RouteSocket& sock, const std::string& ifname,
                                   const nslab::v1::Impairment& impairment,
                                   const KernelFeatures& features, uint64_t fate_seed) {
  NSLAB_ASSIGN_OR_RETURN(LinkRef link, LookupLink(sock, ifname));
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, features, link.mtu);
  if (!plan.ok()) {
    return WithIfname(ifname, plan.status());
  }
  NSLAB_ASSIGN_OR_RETURN(RootQdiscInfo current, ReadRoot(sock, link.ifindex));
  if (!current.installed_by_nslab && current.handle != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(ifname, ": its root qdisc (", current.kind, " ", HandleText(current.handle),
                     ") was not installed by nslab, which leaves it alone; remove it first"));
  }
  if (plan->root == RootQdisc::kNone) {
    if (current.installed_by_nslab) {
      return DeleteRoot(sock, ifname, link.ifindex, current.handle, current.kind);
    }
    return absl::OkStatus();
  }

  // tbf alone is changed in place (tbf_change takes every parameter it is sent); everything
  // else gets a fresh root under the handle not in use (see kernel_impairment.h).
  const bool in_place = current.installed_by_nslab && plan->root == RootQdisc::kTbf &&
                        current.kind == "tbf" && current.child_kind.empty() &&
                        plan->pfifo_limit_packets == 0;
  uint32_t handle = kRootHandle;
  if (in_place) {
    handle = current.handle;
  } else if (current.installed_by_nslab && current.handle == kRootHandle) {
    handle = kAltRootHandle;
  }
  const QdiscTarget root{link.ifindex, handle, TC_H_ROOT};
  const std::string kind = plan->root == RootQdisc::kNetem ? "netem" : "tbf";
  const std::string what =
      absl::StrCat("add ", kind, " qdisc ", HandleText(handle), " on ", ifname);
  KernelAnswer answer;
  absl::Status status =
      Send(sock,
           plan->root == RootQdisc::kNetem
               ? BuildNetemRequest(
                     root, plan->netem,
                     features.netem_seed ? std::optional<uint64_t>(fate_seed) : std::nullopt)
               : BuildTbfRequest(root, plan->tbf),
           what, &answer);
  if (!status.ok()) {
    if (KindMissing(answer)) {
      if (plan->root == RootQdisc::kNetem) {
        return WithIfname(ifname, NetemMissingError(plan->netem_fields));
      }
      return absl::FailedPreconditionError(
          absl::StrCat(ifname, ": kernel has no sch_tbf: rate_bps needs tbf; use mode: wire"));
    }
    return status;
  }

  const QdiscTarget child{link.ifindex, kChildHandle, TC_H_MAKE(handle, 1)};
  absl::Status child_status;
  if (plan->tbf_under_netem) {
    child_status = Send(sock, BuildTbfRequest(child, plan->tbf),
                        absl::StrCat("add tbf qdisc under netem on ", ifname), &answer);
  } else if (plan->pfifo_limit_packets != 0) {
    child_status = Send(sock, BuildPfifoRequest(child, plan->pfifo_limit_packets),
                        absl::StrCat("add pfifo qdisc under tbf on ", ifname), &answer);
  }
  if (!child_status.ok()) {
    // Half an impairment is worse than none: the root just installed goes too.
    DeleteRoot(sock, ifname, link.ifindex, handle, kind).IgnoreError();
    return child_status;
  }
  return absl::OkStatus();
}

absl::Status ClearKernelImpairment(const netlink::RouteSocket& sock, const std::string& ifname) {
  NSLAB_ASSIGN_OR_RETURN(LinkRef link, LookupLink(sock, ifname));
  NSLAB_ASSIGN_OR_RETURN(RootQdiscInfo current, ReadRoot(sock, link.ifindex));
  if (!current.installed_by_nslab) {
    return absl::OkStatus();
  }
  return DeleteRoot(sock, ifname, link.ifindex, current.handle, current.kind);
}

namespace {

// A flow tree's handles, from its root's (0x4e53 or 0x4e54): a class's leaf qdisc is
// <low byte of the root's major>:<class minor> with the class minor in the low byte, the leaf's
// child the same with 0x80 added, so that the tree being built never reuses a handle of the
// tree it replaces.
constexpr uint32_t kDefaultClassMinor = 0x7f;
// htb's own classes must not shape: 1 Tbit/s, far above what a veth carries, with 1 ms of
// bucket and a DRR quantum of one 64 KiB GSO frame and more.
constexpr uint64_t kUnshapedClassBytesPerS = 125'000'000'000;
constexpr uint32_t kUnshapedClassBufferTicks = 1'000'000 / kNsPerTick;
constexpr uint32_t kClassQuantum = 200'000;

uint32_t LeafHandle(uint32_t root, uint32_t minor, bool child) {
  const uint32_t low = (root >> 16) & 0xff;
  return ((low << 8) | (child ? 0x80 : 0) | minor) << 16;
}

absl::Status InstallLeaf(const netlink::RouteSocket& sock, const std::string& ifname, int ifindex,
                         const KernelPlan& plan, uint32_t root, uint32_t minor,
                         const KernelFeatures& features, uint64_t seed, absl::string_view what) {
  const uint32_t classid = root | minor;
  const QdiscTarget leaf{ifindex, LeafHandle(root, minor, false), classid};
  KernelAnswer answer;
  absl::Status status;
  if (plan.root == RootQdisc::kNetem) {
    status =
        Send(sock,
             BuildNetemRequest(leaf, plan.netem,
                               features.netem_seed ? std::optional<uint64_t>(seed) : std::nullopt),
             absl::StrCat("add netem qdisc for ", what, " on ", ifname), &answer);
    if (!status.ok() && KindMissing(answer)) {
      return WithIfname(ifname, NetemMissingError(plan.netem_fields));
    }
  } else {
    status = Send(sock, BuildTbfRequest(leaf, plan.tbf),
                  absl::StrCat("add tbf qdisc for ", what, " on ", ifname), &answer);
  }
  NSLAB_RETURN_IF_ERROR(status);
  const QdiscTarget child{ifindex, LeafHandle(root, minor, true), TC_H_MAKE(leaf.handle, 1)};
  if (plan.tbf_under_netem) {
    return Send(sock, BuildTbfRequest(child, plan.tbf),
                absl::StrCat("add tbf qdisc under netem for ", what, " on ", ifname), &answer);
  }
  if (plan.pfifo_limit_packets != 0) {
    return Send(sock, BuildPfifoRequest(child, plan.pfifo_limit_packets),
                absl::StrCat("add pfifo qdisc under tbf for ", what, " on ", ifname), &answer);
  }
  return absl::OkStatus();
}

absl::Status AddUnshapedClass(const netlink::RouteSocket& sock, const std::string& ifname,
                              int ifindex, uint32_t root, uint32_t minor) {
  KernelAnswer answer;
  return Send(sock,
              BuildHtbClassRequest({ifindex, root | minor, root}, kUnshapedClassBytesPerS,
                                   kUnshapedClassBufferTicks, kClassQuantum),
              absl::StrCat("add htb class ", HandleText(root), absl::StrFormat("%x", minor), " on ",
                           ifname),
              &answer);
}

}  // namespace

absl::StatusOr<FlowTreeClasses> ApplyKernelFlowTree(
    const netlink::RouteSocket& sock, const std::string& ifname, const KernelFlowsPlan& plan,
    const KernelFeatures& features, uint64_t link_seed, const std::vector<uint64_t>& flow_seeds) {
  if (plan.flows.size() >= kDefaultClassMinor || flow_seeds.size() != plan.flows.size()) {
    return absl::InvalidArgumentError(absl::StrCat(ifname, ": ", plan.flows.size(),
                                                   " flows; a veth direction takes at most ",
                                                   kDefaultClassMinor - 1, ", each with its seed"));
  }
  NSLAB_ASSIGN_OR_RETURN(LinkRef link, LookupLink(sock, ifname));
  NSLAB_ASSIGN_OR_RETURN(RootQdiscInfo current, ReadRoot(sock, link.ifindex));
  if (!current.installed_by_nslab && current.handle != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(ifname, ": its root qdisc (", current.kind, " ", HandleText(current.handle),
                     ") was not installed by nslab, which leaves it alone; remove it first"));
  }
  // Always a fresh tree under the other handle, swapped in for the old root in one graft, as
  // ApplyKernelImpairment does. Until its classes are in, frames pass unshaped (htb sends what
  // it cannot classify straight on), for the microseconds the requests below take.
  const uint32_t root =
      current.installed_by_nslab && current.handle == kRootHandle ? kAltRootHandle : kRootHandle;
  const bool link_class = plan.link.root != RootQdisc::kNone;
  KernelAnswer answer;
  absl::Status status = Send(
      sock, BuildHtbRequest({link.ifindex, root, TC_H_ROOT}, link_class ? kDefaultClassMinor : 0),
      absl::StrCat("add htb qdisc ", HandleText(root), " on ", ifname), &answer);
  if (!status.ok()) {
    if (KindMissing(answer)) {
      return absl::FailedPreconditionError(absl::StrCat(
          ifname, ": kernel has no sch_htb: flows beside a rate or netem need it; use mode: wire"));
    }
    return status;
  }
  FlowTreeClasses classes;
  classes.root = root;
  classes.default_priority = root;
  auto build = [&]() -> absl::Status {
    if (link_class) {
      NSLAB_RETURN_IF_ERROR(AddUnshapedClass(sock, ifname, link.ifindex, root, kDefaultClassMinor));
      NSLAB_RETURN_IF_ERROR(InstallLeaf(sock, ifname, link.ifindex, plan.link, root,
                                        kDefaultClassMinor, features, link_seed,
                                        "the link's own impairment"));
      classes.default_priority = root | kDefaultClassMinor;
    }
    for (uint32_t i = 0; i < plan.flows.size(); ++i) {
      if (plan.flows[i].root == RootQdisc::kNone) {
        classes.flow_priorities.push_back(root);  // htb's direct queue: unshaped
        continue;
      }
      const uint32_t minor = i + 1;
      NSLAB_RETURN_IF_ERROR(AddUnshapedClass(sock, ifname, link.ifindex, root, minor));
      NSLAB_RETURN_IF_ERROR(InstallLeaf(sock, ifname, link.ifindex, plan.flows[i], root, minor,
                                        features, flow_seeds[i], absl::StrCat("flows[", i, "]")));
      classes.flow_priorities.push_back(root | minor);
    }
    return absl::OkStatus();
  };
  if (absl::Status built = build(); !built.ok()) {
    // Half a tree is worse than none: the root goes, and the link is left unimpaired.
    DeleteRoot(sock, ifname, link.ifindex, root, "htb").IgnoreError();
    return built;
  }
  return classes;
}

absl::StatusOr<std::vector<LeafStats>> ReadFlowTreeLeaves(const netlink::RouteSocket& sock,
                                                          const std::string& ifname,
                                                          const std::vector<uint32_t>& classids) {
  NSLAB_ASSIGN_OR_RETURN(LinkRef link, LookupLink(sock, ifname));
  nl_cache* cache = nullptr;
  if (int err = rtnl_qdisc_alloc_cache(sock.get(), &cache); err < 0) {
    return netlink::NlStatus("list qdiscs", err);
  }
  std::unique_ptr<nl_cache, void (*)(nl_cache*)> cache_owner(cache, nl_cache_free);
  std::vector<LeafStats> stats;
  for (uint32_t classid : classids) {
    LeafStats leaf;
    std::unique_ptr<rtnl_qdisc, void (*)(rtnl_qdisc*)> qdisc(
        rtnl_qdisc_get_by_parent(cache, link.ifindex, classid), rtnl_qdisc_put);
    if (qdisc != nullptr && (classid & 0xffff) != 0) {
      rtnl_tc* tc = TC_CAST(qdisc.get());
      leaf.found = true;
      leaf.packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS);
      leaf.bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES);
      leaf.drops = rtnl_tc_get_stat(tc, RTNL_TC_DROPS);
      leaf.queued = rtnl_tc_get_stat(tc, RTNL_TC_QLEN);
      const char* kind = rtnl_tc_get_kind(tc);
      leaf.kind = kind != nullptr ? kind : "";
    }
    stats.push_back(std::move(leaf));
  }
  return stats;
}

}  // namespace nslab::impair::kernel
