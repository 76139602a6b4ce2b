#include "daemon/impair/kernel/qdisc_messages.h"

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <cstring>
#include <limits>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"

namespace nslab::impair::kernel {

void NlMsgFree::operator()(nl_msg* msg) const { nlmsg_free(msg); }

namespace {

constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();

// Appends a request piece by piece as iproute2's addattr_l/addattr_nest do: attribute lengths
// unpadded, payloads padded to 4 bytes with zeros. Nests are kept as offsets, so nothing
// depends on where libnl keeps the buffer.
class RequestWriter {
 public:
  static absl::StatusOr<RequestWriter> Start(int type, int flags, const QdiscTarget& target,
                                             size_t capacity) {
    NlMsgPtr msg(nlmsg_alloc_size(capacity));
    if (msg == nullptr) {
      return absl::ResourceExhaustedError("nlmsg_alloc_size failed");
    }
    if (nlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, type, 0, flags) == nullptr) {
      return absl::ResourceExhaustedError("nlmsg_put failed");
    }
    RequestWriter writer(std::move(msg));
    tcmsg tcm{};
    tcm.tcm_family = AF_UNSPEC;
    tcm.tcm_ifindex = target.ifindex;
    tcm.tcm_handle = target.handle;
    tcm.tcm_parent = target.parent;
    writer.Raw(&tcm, sizeof(tcm));
    return writer;
  }

  void Raw(const void* data, size_t len) {
    void* place = nlmsg_reserve(msg_.get(), len, NLMSG_ALIGNTO);
    if (place == nullptr) {
      overflow_ = true;
      return;
    }
    if (len > 0) {
      std::memcpy(place, data, len);
    }
  }

  void Attr(uint16_t type, const void* data, size_t len) {
    const nlattr header{static_cast<uint16_t>(NLA_HDRLEN + len), type};
    Raw(&header, sizeof(header));
    Raw(data, len);
  }

  template <typename T>
  void AttrOf(uint16_t type, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    Attr(type, &value, sizeof(value));
  }

  void AttrString(uint16_t type, const std::string& value) {
    Attr(type, value.c_str(), value.size() + 1);
  }

  size_t BeginNest(uint16_t type) {
    const size_t offset = nlmsg_hdr(msg_.get())->nlmsg_len;
    const nlattr header{NLA_HDRLEN, type};
    Raw(&header, sizeof(header));
    return offset;
  }

  // The nest spans everything appended since BeginNest, trailing padding included (as
  // addattr_nest_end does).
  void EndNest(size_t offset) {
    if (overflow_) {
      return;
    }
    nlmsghdr* header = nlmsg_hdr(msg_.get());
    const size_t len = header->nlmsg_len - offset;
    if (len > std::numeric_limits<uint16_t>::max()) {
      overflow_ = true;
      return;
    }
    auto* nest = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(header) + offset);
    nest->nla_len = static_cast<uint16_t>(len);
  }

  absl::StatusOr<NlMsgPtr> Finish() && {
    if (overflow_) {
      return absl::InternalError("qdisc request does not fit its netlink message");
    }
    return std::move(msg_);
  }

 private:
  explicit RequestWriter(NlMsgPtr msg) : msg_(std::move(msg)) {}

  NlMsgPtr msg_;
  bool overflow_ = false;
};

constexpr int kNewFlags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;

// Room for the headers, the fixed attributes and the largest table the kernel takes.
constexpr size_t kNetemCapacity = 1024 + kNetemDistMax * sizeof(int16_t);

uint32_t TicksOf(int64_t ns) {
  const int64_t ticks = ns / kNsPerTick;
  return ticks > kU32Max ? kU32Max : static_cast<uint32_t>(ticks);
}

// tc_calc_xmittime(): the time to send `size` bytes at `rate`, truncated to whole microseconds
// and then to whole ticks, as tc does (both through `unsigned`), so that TCA_TBF_PARMS matches
// tc's byte for byte; tc passes the 32-bit rate of the ratespec, clamped for 64-bit rates. The
// kernel recomputes the buffer from TCA_TBF_BURST anyway.
uint32_t TcXmitTicks(uint32_t rate_bytes_per_s, uint32_t size) {
  const double us = 1e6 * static_cast<double>(size) / static_cast<double>(rate_bytes_per_s);
  if (!(us < static_cast<double>(kU32Max))) {
    return kU32Max;
  }
  const double ticks =
      static_cast<double>(static_cast<uint32_t>(us)) * (1000.0 / static_cast<double>(kNsPerTick));
  return ticks < static_cast<double>(kU32Max) ? static_cast<uint32_t>(ticks) : kU32Max;
}

}  // namespace

absl::StatusOr<NlMsgPtr> BuildNetemRequest(const QdiscTarget& target, const ImpairmentSpec& spec,
                                           std::optional<uint64_t> prng_seed) {
  if (spec.trace != nullptr) {
    return absl::InvalidArgumentError("trace_file: a delivery trace needs mode: wire");
  }
  if (spec.distribution != nullptr && spec.distribution->size() > kNetemDistMax) {
    return absl::InvalidArgumentError(absl::StrCat("distribution: the kernel takes at most ",
                                                   kNetemDistMax, " entries, the table has ",
                                                   spec.distribution->size()));
  }
  const uint64_t rate_bytes = spec.rate_bps / 8;
  if (spec.rate_bps != 0 && rate_bytes == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate_bps must be at least 8 (one byte per second), got ", spec.rate_bps));
  }

  tc_netem_qopt qopt{};
  qopt.latency = TicksOf(spec.delay_ns);
  qopt.jitter = TicksOf(spec.jitter_ns);
  qopt.limit = spec.limit_packets != 0 ? spec.limit_packets : kDefaultLimitPackets;
  qopt.duplicate = spec.duplicate;
  qopt.gap = spec.reorder_gap;
  if (spec.reorder != 0 && qopt.gap == 0) {
    qopt.gap = 1;  // tc's rule: `reorder P` alone means gap 1
  }
  tc_netem_corr corr{};
  corr.delay_corr = spec.delay_correlation;
  const auto* random_loss = std::get_if<RandomLossParams>(&spec.loss);
  if (random_loss != nullptr) {
    qopt.loss = random_loss->probability;
    corr.loss_corr = random_loss->correlation;
  }

  absl::StatusOr<RequestWriter> started =
      RequestWriter::Start(RTM_NEWQDISC, kNewFlags, target, kNetemCapacity);
  if (!started.ok()) {
    return started.status();
  }
  RequestWriter& w = *started;
  w.AttrString(TCA_KIND, "netem");
  // netem's TCA_OPTIONS is a tc_netem_qopt followed by attributes (the kernel parses them at
  // an offset of sizeof(tc_netem_qopt)), and, as tc sends it, carries no NLA_F_NESTED.
  const size_t options = w.BeginNest(TCA_OPTIONS);
  w.Raw(&qopt, sizeof(qopt));
  if (spec.delay_ns / kNsPerTick > kU32Max) {
    // Beyond 32-bit ticks: qopt.latency holds the maximum, the kernel takes this instead.
    const int64_t latency_ns = spec.delay_ns;
    w.AttrOf(TCA_NETEM_LATENCY64, latency_ns);
  }
  if (corr.delay_corr != 0 || corr.loss_corr != 0) {
    w.AttrOf(TCA_NETEM_CORR, corr);
  }
  if (spec.reorder != 0) {
    const tc_netem_reorder reorder{spec.reorder, 0};
    w.AttrOf(TCA_NETEM_REORDER, reorder);
  }
  if (spec.corrupt != 0) {
    const tc_netem_corrupt corrupt{spec.corrupt, 0};
    w.AttrOf(TCA_NETEM_CORRUPT, corrupt);
  }
  if (const auto* ge = std::get_if<GilbertElliottParams>(&spec.loss)) {
    const size_t loss = w.BeginNest(TCA_NETEM_LOSS | NLA_F_NESTED);
    const tc_netem_gemodel model{ge->p, ge->r, ge->h, ge->k1};
    w.AttrOf(NETEM_LOSS_GE, model);
    w.EndNest(loss);
  } else if (const auto* markov = std::get_if<MarkovLossParams>(&spec.loss)) {
    const size_t loss = w.BeginNest(TCA_NETEM_LOSS | NLA_F_NESTED);
    // The kernel's field order is p13 p31 p32 p14 p23, not the command line's.
    const tc_netem_gimodel model{markov->p13, markov->p31, markov->p32, markov->p14, markov->p23};
    w.AttrOf(NETEM_LOSS_GI, model);
    w.EndNest(loss);
  }
  if (rate_bytes != 0) {
    tc_netem_rate rate{};
    if (rate_bytes > kU32Max) {
      w.AttrOf(TCA_NETEM_RATE64, rate_bytes);
      rate.rate = kU32Max;
    } else {
      rate.rate = static_cast<uint32_t>(rate_bytes);
    }
    w.AttrOf(TCA_NETEM_RATE, rate);
  }
  if (spec.distribution != nullptr) {
    const auto values = spec.distribution->values();
    w.Attr(TCA_NETEM_DELAY_DIST, values.data(), values.size_bytes());
  }
  if (prng_seed.has_value()) {
    const uint64_t seed = *prng_seed;
    w.AttrOf(kTcaNetemPrngSeed, seed);
  }
  w.EndNest(options);
  return std::move(w).Finish();
}

absl::StatusOr<NlMsgPtr> BuildTbfRequest(const QdiscTarget& target, const TbfParams& params) {
  if (params.rate_bytes_per_s == 0) {
    return absl::InvalidArgumentError("tbf needs a rate above 0 bytes/s");
  }
  if (params.burst_bytes == 0) {
    return absl::InvalidArgumentError("tbf needs a burst above 0 bytes");
  }
  tc_tbf_qopt qopt{};
  // cell_log and cell_align describe the rate table tc computes for a 2047-byte MTU; kept as
  // tc sets them so that the ratespec reads the same in `tc -d qdisc show`.
  qopt.rate.cell_log = 3;
  qopt.rate.linklayer = TC_LINKLAYER_ETHERNET;
  qopt.rate.cell_align = -1;
  qopt.rate.rate =
      params.rate_bytes_per_s > kU32Max ? kU32Max : static_cast<uint32_t>(params.rate_bytes_per_s);
  qopt.limit = params.limit_bytes;
  qopt.buffer = TcXmitTicks(qopt.rate.rate, params.burst_bytes);

  absl::StatusOr<RequestWriter> started =
      RequestWriter::Start(RTM_NEWQDISC, kNewFlags, target, 1024);
  if (!started.ok()) {
    return started.status();
  }
  RequestWriter& w = *started;
  w.AttrString(TCA_KIND, "tbf");
  const size_t options = w.BeginNest(TCA_OPTIONS);
  w.AttrOf(TCA_TBF_PARMS, qopt);
  w.AttrOf(TCA_TBF_BURST, params.burst_bytes);
  if (params.rate_bytes_per_s > kU32Max) {
    w.AttrOf(TCA_TBF_RATE64, params.rate_bytes_per_s);
  }
  w.EndNest(options);
  return std::move(w).Finish();
}

absl::StatusOr<NlMsgPtr> BuildPfifoRequest(const QdiscTarget& target, uint32_t limit_packets) {
  absl::StatusOr<RequestWriter> started =
      RequestWriter::Start(RTM_NEWQDISC, kNewFlags, target, 256);
  if (!started.ok()) {
    return started.status();
  }
  RequestWriter& w = *started;
  w.AttrString(TCA_KIND, "pfifo");
  const tc_fifo_qopt qopt{limit_packets};
  w.AttrOf(TCA_OPTIONS, qopt);
  return std::move(w).Finish();
}

absl::StatusOr<NlMsgPtr> BuildHtbRequest(const QdiscTarget& target, uint32_t default_minor) {
  absl::StatusOr<RequestWriter> started =
      RequestWriter::Start(RTM_NEWQDISC, kNewFlags, target, 256);
  if (!started.ok()) {
    return started.status();
  }
  RequestWriter& w = *started;
  w.AttrString(TCA_KIND, "htb");
  tc_htb_glob glob{};
  glob.version = 3;  // HTB_VER >> 16: the kernel refuses any other
  glob.rate2quantum = 10;
  glob.defcls = default_minor;
  const size_t options = w.BeginNest(TCA_OPTIONS);
  w.AttrOf(TCA_HTB_INIT, glob);
  w.EndNest(options);
  return std::move(w).Finish();
}

absl::StatusOr<NlMsgPtr> BuildHtbClassRequest(const QdiscTarget& target, uint64_t rate_bytes_per_s,
                                              uint32_t buffer_ticks, uint32_t quantum) {
  if (rate_bytes_per_s == 0) {
    return absl::InvalidArgumentError("an htb class needs a rate above 0 bytes/s");
  }
  tc_htb_opt opt{};
  opt.rate.linklayer = TC_LINKLAYER_ETHERNET;
  opt.rate.rate = rate_bytes_per_s > kU32Max ? kU32Max : static_cast<uint32_t>(rate_bytes_per_s);
  opt.ceil = opt.rate;
  opt.buffer = buffer_ticks;
  opt.cbuffer = buffer_ticks;
  opt.quantum = quantum;
  absl::StatusOr<RequestWriter> started =
      RequestWriter::Start(RTM_NEWTCLASS, kNewFlags, target, 256);
  if (!started.ok()) {
    return started.status();
  }
  RequestWriter& w = *started;
  w.AttrString(TCA_KIND, "htb");
  const size_t options = w.BeginNest(TCA_OPTIONS);
  w.AttrOf(TCA_HTB_PARMS, opt);
  if (rate_bytes_per_s > kU32Max) {
    w.AttrOf(TCA_HTB_RATE64, rate_bytes_per_s);
    w.AttrOf(TCA_HTB_CEIL64, rate_bytes_per_s);
  }
  w.EndNest(options);
  return std::move(w).Finish();
}

absl::StatusOr<NlMsgPtr> BuildDeleteQdiscRequest(const QdiscTarget& target,
                                                 const std::string& kind) {
  absl::StatusOr<RequestWriter> started =
      RequestWriter::Start(RTM_DELQDISC, NLM_F_REQUEST | NLM_F_ACK, target, 256);
  if (!started.ok()) {
    return started.status();
  }
  RequestWriter& w = *started;
  w.AttrString(TCA_KIND, kind);
  return std::move(w).Finish();
}

}  // namespace nslab::impair::kernel
